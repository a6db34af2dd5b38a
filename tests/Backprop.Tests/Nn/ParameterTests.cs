using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

public sealed class ParameterTests
{
    [Fact]
    public void A_matrix_names_its_numbers_by_row_and_column()
    {
        var p = new Parameter<double>("layer0.weight", new Shape(2, 3));

        Assert.Equal("layer0.weight", p.Name);
        Assert.Equal(
            ["layer0.weight[0,0]", "layer0.weight[0,1]", "layer0.weight[0,2]", "layer0.weight[1,0]", "layer0.weight[1,1]", "layer0.weight[1,2]"],
            p.ElementNames);
        Assert.True(p.RequiresGrad);
        Assert.True(p.IsLeaf);
        Assert.All(p.ToDoubleArray(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void A_vector_names_its_numbers_by_index()
    {
        var p = new Parameter<float>("layer2.bias", new Shape(3));

        Assert.Equal(["layer2.bias[0]", "layer2.bias[1]", "layer2.bias[2]"], p.ElementNames);
    }

    [Fact]
    public void Rename_renames_every_number()
    {
        var p = new Parameter<double>("a", new Shape(2, 2));

        p.Rename("layer3.weight");

        Assert.Equal("layer3.weight", p.Name);
        Assert.Equal("layer3.weight[1,0]", p.ElementNames[2]);
    }

    [Fact]
    public void SetElementNames_needs_one_name_per_number()
    {
        var p = new Parameter<double>("layer0.bias", new Shape(2));

        p.SetElementNames("b1", "b2");
        Assert.Equal(["b1", "b2"], p.ElementNames);

        var e = Assert.Throws<ArgumentException>(() => p.SetElementNames("b1"));
        Assert.Contains("layer0.bias has 2 numbers; 1 names", e.Message, StringComparison.Ordinal);
        Assert.Equal(["b1", "b2"], p.ElementNames);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void A_parameter_needs_a_name(string name)
        => Assert.Throws<ArgumentException>(() => new Parameter<double>(name, new Shape(2)));

    [Fact]
    public void Numbers_are_trained_until_frozen_one_by_one_or_all_together()
    {
        var p = new Parameter<double>("p", new Shape(3));
        Assert.True(p.IsFullyTrainable);

        p.SetTrainable(1, false);

        Assert.Equal([true, false, true], p.Trainable.ToArray());
        Assert.False(p.IsFullyTrainable);

        p.SetTrainable(false);
        Assert.Equal([false, false, false], p.Trainable.ToArray());

        p.SetTrainable(true);
        Assert.True(p.IsFullyTrainable);
    }

    [Fact]
    public void An_element_reads_and_writes_its_number_and_gradient()
    {
        var p = new Parameter<double>("p", new Shape(2));
        var element = new ParameterElement<double>(p, 1);
        Assert.Equal(0, element.Gradient);

        element.Value = 3;
        (p * p).Sum().Backward();

        Assert.Equal(3, p[1]);
        Assert.Equal("p[1]", element.Name);
        Assert.Equal(6, element.Gradient);
        Assert.True(element.IsTrainable);
    }

    [Fact]
    public void Names_cost_no_memory_until_read()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var p = new Parameter<float>("layer1.weight", new Shape(2048, 2048));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // 4 MiB of floats (16 MiB) and 4 M trained flags (4 MiB); a stored name per number would add ~300 MiB.
        Assert.InRange(allocated, 20L << 20, 21L << 20);
        Assert.Equal("layer1.weight[2047,2047]", p.ElementNames[^1]);
        Assert.Equal(2048 * 2048, p.ElementNames.Count);
    }

    [Fact]
    public void Custom_names_last_until_the_next_rename()
    {
        var p = new Parameter<double>("w", new Shape(2));
        p.SetElementNames("w1", "w2");

        Assert.Equal(["w1", "w2"], p.ElementNames);
        p.Rename("v");
        Assert.Equal(["v[0]", "v[1]"], p.ElementNames);
    }
}
