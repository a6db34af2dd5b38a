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
    [InlineData(new string[0], "UNITS is missing; expected 'dense UNITS [ACTIVATION]'")]
    [InlineData(new[] { "1", "relu", "x" }, "'x' is one word too many; expected 'dense UNITS [ACTIVATION]'")]
    [InlineData(new[] { "0" }, "UNITS must be a positive whole number, not '0'")]
    [InlineData(new[] { "ten" }, "UNITS must be a positive whole number, not 'ten'")]
    [InlineData(new[] { "10", "gelu" }, "'gelu' is not an activation; the activations are softplus, relu, sigmoid, tanh, identity")]
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
        => Assert.Equal("'2' is one word too many; expected 'relu'", Assert.Throws<BackpropException>(() => Activation.Relu.Parse(["2"])).Message);

    [Fact]
    public void Each_kind_is_found_by_its_net_keywords_and_kinds_share_one_only_for_different_input_ranks()
    {
        Assert.Equal(["dense", "conv", "maxpool", "avgpool", "globalavgpool", "flatten", "dropout", "batchnorm", "softplus", "relu", "sigmoid", "tanh", "identity"], LayerRegistry.Keywords);
        Assert.All(LayerRegistry.Kinds, k =>
        {
            Assert.Contains(k.Name, k.Keywords);
            Assert.All(k.Keywords, w => Assert.Contains(k, LayerRegistry.WithKeyword(w)));
            Assert.StartsWith(k.Keywords[0], k.Syntax, StringComparison.Ordinal);
        });
        Assert.Equal([Conv2dKind.Instance], LayerRegistry.WithKeyword("CONV"));
        Assert.Equal([Conv2dKind.Instance], LayerRegistry.WithKeyword("conv2d"));
        Assert.Equal([BatchNorm1dKind.Instance, BatchNorm2dKind.Instance], LayerRegistry.WithKeyword("batchnorm"));
        Assert.Equal([1, 3], LayerRegistry.WithKeyword("batchnorm").Select(k => k.InputRank));
        Assert.Empty(LayerRegistry.WithKeyword("pool"));
    }

    [Theory]
    [InlineData("conv2d", new[] { "8" }, "KERNEL is missing; expected 'conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]'")]
    [InlineData("conv2d", new[] { "8", "3", "nobias", "nobias" }, "'nobias' is not one of its words, or is given twice; expected 'conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]'")]
    [InlineData("maxpool2d", new[] { "2", "stride", "2", "x" }, "'x' is one word too many; expected 'maxpool K [stride S]'")]
    [InlineData("avgpool2d", new[] { "2", "stride", "0" }, "stride must be a positive whole number, not '0'")]
    [InlineData("globalavgpool", new[] { "2" }, "'2' is one word too many; expected 'globalavgpool'")]
    [InlineData("dropout", new[] { "x" }, "P must be a number, not 'x'")]
    [InlineData("dropout", new[] { "-0.5" }, "P is the probability of dropping a number, from 0 to below 1, not '-0.5'")]
    [InlineData("batchnorm2d", new[] { "momentum" }, "momentum needs a number after it; expected 'batchnorm [momentum M] [eps E]'")]
    [InlineData("batchnorm1d", new[] { "eps", "1e-3", "epsilon", "1e-4" }, "'epsilon' is not one of its words, or is given twice; expected 'batchnorm [momentum M] [eps E]'")]
    [InlineData("batchnorm1d", new[] { "momentum", "x" }, "momentum must be a number, not 'x'")]
    public void Each_kinds_words_that_do_not_fit_say_what_is_wrong(string kind, string[] words, string expected)
        => Assert.Equal(expected, Assert.Throws<BackpropException>(() => LayerRegistry.Find(kind)!.Parse(words)).Message);

    [Fact]
    public void Batch_norm_reads_momentum_and_eps_in_either_order()
    {
        Assert.Equal("momentum=0.2, epsilon=0.001", BatchNorm2dKind.Instance.Parse(["EPS", "1e-3", "momentum", "0.2"]).ToString());
        Assert.Equal("momentum=0.1, epsilon=1E-05", BatchNorm1dKind.Instance.Parse([]).ToString());
    }
}
