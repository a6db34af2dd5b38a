using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

/// <summary>The registry's contract, checked for every registered kind (a new kind is covered by adding it).</summary>
public sealed class LayerRegistryTests
{
    public static TheoryData<string> KindNames() => [.. LayerRegistry.Kinds.Select(k => k.Name)];

    [Fact]
    public void Kinds_have_distinct_lower_case_names_and_are_found_by_them()
    {
        Assert.Equal(LayerRegistry.Kinds.Count, LayerRegistry.Kinds.Select(k => k.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.All(LayerRegistry.Kinds, k =>
        {
            Assert.Equal(k.Name.ToLowerInvariant(), k.Name);
            Assert.DoesNotContain(' ', k.Name);
            Assert.Same(k, LayerRegistry.Find(k.Name));
        });
        Assert.Null(LayerRegistry.Find("Dense"));
        Assert.Null(LayerRegistry.Find("conv9"));
    }

    [Fact]
    public void The_activations_are_the_registered_kinds_that_are_activations()
    {
        Assert.Equal(["softplus", "relu", "sigmoid", "tanh", "identity"], LayerRegistry.Activations.Select(a => a.Name));
        Assert.Same(Activation.Relu, LayerRegistry.Find("relu"));
    }

    [Theory]
    [MemberData(nameof(KindNames))]
    public void A_module_built_from_a_kinds_fields_reports_that_kind_and_gives_back_its_fields(string name)
    {
        var kind = LayerRegistry.Find(name)!;
        var (item, input) = kind.Example;
        var words = item.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(kind.Name, words[0]);
        var fields = kind.Parse(words[1..]);

        var module = kind.Create<double>(fields, input);

        Assert.Same(kind, module.Kind);
        var again = kind.FieldsOf(module);
        Assert.Equal(kind.OutputShape(fields, input), kind.OutputShape(again, input));
        var arrays = kind.Arrays(fields, input);
        Assert.Equal(arrays.Where(a => a.Trained).Select(a => a.Shape), module.Parameters().Select(p => p.Shape));
        Assert.Equal(arrays.Where(a => !a.Trained).Select(a => a.Shape), module.Buffers().Select(b => b.Shape));
        Assert.Equal(arrays.Select(a => a.Name), module.Parameters().Concat(module.Buffers()).Select(t => t.Name!.Split('.')[^1]));
        var rebuilt = kind.Create<double>(again, input);
        Assert.Equal(module.Describe(), rebuilt.Describe());
    }

    [Fact]
    public void Dense_parses_units_and_an_optional_activation()
    {
        var fields = DenseKind.Instance.Parse(["128", "ReLU"]);
        Assert.Equal("outputs=128, activation=relu", fields.ToString());
        Assert.Equal(new Shape(128), DenseKind.Instance.OutputShape(fields, new Shape(784)));
        Assert.Equal("Dense(128, ReLU)", DenseKind.Instance.Label(fields));
        Assert.Equal("outputs=10, activation=identity", DenseKind.Instance.Parse(["10"]).ToString());
    }

    [Theory]
    [InlineData(new string[0], "expected 'dense UNITS [ACTIVATION]'")]
    [InlineData(new[] { "1", "relu", "x" }, "expected 'dense UNITS [ACTIVATION]'")]
    [InlineData(new[] { "0" }, "UNITS must be a positive whole number, not '0'")]
    [InlineData(new[] { "ten" }, "UNITS must be a positive whole number, not 'ten'")]
    [InlineData(new[] { "10", "gelu" }, "Unknown activation 'gelu'; choose one of softplus, relu, sigmoid, tanh, identity.")]
    public void Dense_items_that_do_not_fit_say_why(string[] words, string expected)
        => Assert.Equal(expected, Assert.Throws<BackpropException>(() => DenseKind.Instance.Parse(words)).Message);

    [Fact]
    public void Dense_refuses_an_image_shaped_input_and_a_wrong_input_count()
    {
        var fields = DenseKind.Instance.Parse(["10"]);
        Assert.Equal("dense takes rows of numbers, not examples of shape [1, 28, 28]; put a flatten before it",
            Assert.Throws<BackpropException>(() => DenseKind.Instance.OutputShape(fields, new Shape(1, 28, 28))).Message);
        fields.Add("inputs", 4);
        Assert.Equal("it takes 4 inputs but the layer before it gives 3",
            Assert.Throws<BackpropException>(() => DenseKind.Instance.Arrays(fields, new Shape(3))).Message);
    }

    [Fact]
    public void An_activation_takes_no_words()
        => Assert.Equal("expected 'relu'", Assert.Throws<BackpropException>(() => Activation.Relu.Parse(["2"])).Message);
}
