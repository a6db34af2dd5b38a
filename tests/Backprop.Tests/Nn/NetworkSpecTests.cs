using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

public sealed class NetworkSpecTests
{
    private const string ReferenceCnn = "conv 32 3 pad 1, relu, maxpool 2, conv 64 3 pad 1, relu, maxpool 2, flatten, dense 128 relu, dense 10";

    [Fact]
    public void The_reference_cnn_has_pytorchs_layers_shapes_and_parameter_count()
    {
        var spec = NetworkSpec.Parse(ReferenceCnn);
        var image = new Shape(1, 28, 28);

        var network = spec.Build<float>(image);

        Assert.Equal(
            "Conv2d(1 → 32, 3×3, padding 1, ReLU) → MaxPool2d(2×2) → Conv2d(32 → 64, 3×3, padding 1, ReLU) → MaxPool2d(2×2) → Flatten → Dense(3136 → 128, ReLU) → Dense(128 → 10, Identity)",
            network.Describe());
        // PyTorch's count for the same network: 320 + 18,496 + 401,536 + 1,290.
        Assert.Equal(421_642, network.ParameterCount());
        Assert.Equal(421_642, spec.ParameterCount(image));
        Assert.Equal(new Shape(10), spec.OutputShape(image));
        Assert.True(spec.TakesImages);
        Assert.Equal(new Shape(3, 10), network.Forward(new Tensor<float>(new Shape(3, 1, 28, 28))).Shape);
    }

    [Fact]
    public void An_activation_after_dense_is_fused_so_both_spellings_and_the_mlp_build_the_same_network()
    {
        var separate = NetworkSpec.Parse("dense 8, tanh, dense 3").Build<double>(new Shape(4));
        var fused = NetworkSpec.Parse("DENSE 8 Tanh ,dense   3").Build<double>(new Shape(4));
        var mlp = Sequential<double>.Mlp([4, 8, 3], Activation.Tanh);

        foreach (var network in new[] { separate, fused })
        {
            Assert.Equal(mlp.Describe(), network.Describe());
            Assert.Equal(mlp.Parameters().Select(p => (p.Name, p.Shape)), network.Parameters().Select(p => (p.Name, p.Shape)));
        }
        Assert.Equal("dense 8 tanh, dense 3", NetworkSpec.Mlp([4, 8, 3], Activation.Tanh).ToString());
        Assert.Equal(mlp.Describe(), NetworkSpec.Mlp([4, 8, 3], Activation.Tanh).Build<double>(new Shape(4)).Describe());
    }

    [Fact]
    public void Every_layer_kind_is_built_with_the_shapes_it_is_given()
    {
        var spec = NetworkSpec.Parse("conv 4 3 stride 2 nobias tanh, batchnorm, avgpool 2 stride 1, maxpool 1, globalavgpool, batchnorm, dropout 0.5, dense 5, sigmoid, identity, softplus");

        var network = spec.Build<double>(new Shape(2, 9, 7));

        Assert.Equal(
            "Conv2d(2 → 4, 3×3, stride 2, no bias, Tanh) → BatchNorm2d(4) → AvgPool2d(2×2, stride 1) → MaxPool2d(1×1) → GlobalAvgPool → BatchNorm1d(4) → Dropout(p = 0.5) → Dense(4 → 5, Sigmoid) → Identity → SoftPlus",
            network.Describe());
        Assert.Equal(new Shape(5), spec.OutputShape(new Shape(2, 9, 7)));
        Assert.Equal(network.ParameterCount(), spec.ParameterCount(new Shape(2, 9, 7)));
        // Images 9×7 → conv stride 2 → 4×3 → avgpool 2 stride 1 → 3×2.
        Assert.Equal(new Shape(6, 5), network.Forward(new Tensor<double>(new Shape(6, 2, 9, 7))).Shape);
    }

    [Fact]
    public void Every_registered_kinds_example_is_an_item_that_builds_the_kinds_own_module()
    {
        // The parser asks the registry: a kind is an item by its registration alone.
        foreach (var kind in LayerRegistry.Kinds)
        {
            var (item, input) = kind.Example;
            var words = item.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var own = kind.Create<double>(kind.Parse(words[1..]), input);

            foreach (var keyword in kind.Keywords)
            {
                var network = NetworkSpec.Parse(keyword + " " + string.Join(' ', words[1..])).Build<double>(input);

                var layer = Assert.Single(network.Layers);
                Assert.Same(kind, layer.Kind);
                Assert.Equal(own.Describe(), layer.Describe());
            }
        }
    }

    [Fact]
    public void Batchnorm_is_batchnorm1d_on_rows_and_batchnorm2d_on_images_and_only_the_first_layers_kinds_say_whether_it_takes_images()
    {
        var spec = NetworkSpec.Parse("batchnorm momentum 0.3, flatten, batchnorm, dense 2");

        Assert.Equal("BatchNorm2d(2, momentum 0.3) → Flatten → BatchNorm1d(18) → Dense(18 → 2, Identity)", spec.Build<double>(new Shape(2, 3, 3)).Describe());
        Assert.Equal("BatchNorm1d(5, momentum 0.3) → Flatten → BatchNorm1d(5) → Dense(5 → 2, Identity)", spec.Build<double>(new Shape(5)).Describe());
        Assert.Equal(0.3, ((BatchNorm<double>)spec.Build<double>(new Shape(5)).Layers[0]).Momentum);
        Assert.False(spec.TakesImages);
        Assert.True(NetworkSpec.Parse("maxpool2d 2, flatten, dense 1").TakesImages);
        Assert.False(NetworkSpec.Parse("dropout 0.1, dense 1").TakesImages);
    }

    [Fact]
    public void An_activation_fuses_only_into_a_layer_without_one()
    {
        Assert.Equal("Dense(3 → 4, ReLU) → Tanh → Dense(4 → 1, Identity)", NetworkSpec.Parse("dense 4 relu, tanh, dense 1").Build<double>(new Shape(3)).Describe());
        Assert.Equal("Conv2d(1 → 2, 3×3, Sigmoid) → Tanh → Flatten", NetworkSpec.Parse("conv 2 3, sigmoid, tanh, flatten").Build<double>(new Shape(1, 4, 4)).Describe());
        Assert.Equal("Flatten → ReLU", NetworkSpec.Parse("flatten, relu").Build<double>(new Shape(1, 4, 4)).Describe());
    }

    [Fact]
    public void Help_lists_one_line_per_keyword_from_the_registry()
    {
        var syntax = NetworkSpec.Syntax;

        Assert.Equal(LayerRegistry.Keywords.Count, syntax.Count);
        Assert.Equal("conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]", syntax[1].Syntax);
        var batchnorm = Assert.Single(syntax, s => s.Syntax.StartsWith("batchnorm", StringComparison.Ordinal));
        Assert.Equal("batchnorm [momentum M] [eps E]", batchnorm.Syntax);
        Assert.Equal($"on rows: {BatchNorm1dKind.Instance.Description}; on images: {BatchNorm2dKind.Instance.Description}", batchnorm.Description);
    }

    [Fact]
    public void Dropout_layers_are_seeded_from_the_seed_and_differ_from_each_other()
    {
        static ulong[] Draws(ulong seed) => [.. NetworkSpec.Parse("dropout 0.5, dropout 0.5, dense 2").Build<double>(new Shape(3), seed)
            .Generators().Select(g => g.Value.NextUInt64())];

        Assert.Equal(Draws(1), Draws(1));
        Assert.NotEqual(Draws(1), Draws(2));
        Assert.NotEqual(Draws(1)[0], Draws(1)[1]);
    }

    [Theory]
    [InlineData("", "--net is empty; give its layers separated by commas, e.g. --net \"dense 16 relu, dense 3\".")]
    [InlineData("dense 4,, dense 2", "--net item 2 is empty: two commas in a row, or a comma at the start or end.")]
    [InlineData("dense 4,", "--net item 2 is empty: two commas in a row, or a comma at the start or end.")]
    [InlineData("dnse 3", "--net item 1 (dnse 3): unknown layer 'dnse' (did you mean 'dense'?); the layers are dense, conv, maxpool, avgpool, globalavgpool, flatten, dropout, batchnorm, softplus, relu, sigmoid, tanh, identity.")]
    [InlineData("dense 4, pool 2", "--net item 2 (pool 2): unknown layer 'pool'; the layers are dense, conv, maxpool, avgpool, globalavgpool, flatten, dropout, batchnorm, softplus, relu, sigmoid, tanh, identity.")]
    [InlineData("dense", "--net item 1 (dense): UNITS is missing; expected 'dense UNITS [ACTIVATION]'.")]
    [InlineData("dense x", "--net item 1 (dense x): UNITS must be a positive whole number, not 'x'.")]
    [InlineData("dense 0", "--net item 1 (dense 0): UNITS must be a positive whole number, not '0'.")]
    [InlineData("dense 4 relu tanh", "--net item 1 (dense 4 relu tanh): 'tanh' is one word too many; expected 'dense UNITS [ACTIVATION]'.")]
    [InlineData("conv 8", "--net item 1 (conv 8): KERNEL is missing; expected 'conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]'.")]
    [InlineData("conv 8 3 pad 1 pad 2", "--net item 1 (conv 8 3 pad 1 pad 2): 'pad' is not one of its words, or is given twice; expected 'conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]'.")]
    [InlineData("conv 8 3 pad -1", "--net item 1 (conv 8 3 pad -1): pad must be a non-negative whole number, not '-1'.")]
    [InlineData("conv 8 3 stride 0", "--net item 1 (conv 8 3 stride 0): stride must be a positive whole number, not '0'.")]
    [InlineData("maxpool 2 stride", "--net item 1 (maxpool 2 stride): stride needs a number after it; expected 'maxpool K [stride S]'.")]
    [InlineData("flatten 2", "--net item 1 (flatten 2): '2' is one word too many; expected 'flatten'.")]
    [InlineData("dropout", "--net item 1 (dropout): P is missing; expected 'dropout P'.")]
    [InlineData("dropout 1", "--net item 1 (dropout 1): P is the probability of dropping a number, from 0 to below 1, not '1'.")]
    [InlineData("relu 2", "--net item 1 (relu 2): '2' is one word too many; expected 'relu'.")]
    [InlineData("dense 4, dense 10 gelu", "--net item 2 (dense 10 gelu): 'gelu' is not an activation; the activations are softplus, relu, sigmoid, tanh, identity.")]
    [InlineData("dense 4, batchnorm momentum x", "--net item 2 (batchnorm momentum x): momentum must be a number, not 'x'.")]
    [InlineData("flatten, batchnorm eps", "--net item 2 (batchnorm eps): eps needs a number after it; expected 'batchnorm [momentum M] [eps E]'.")]
    [InlineData("conv 4 3 relu tanh", "--net item 1 (conv 4 3 relu tanh): 'tanh' is not one of its words, or is given twice; expected 'conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]'.")]
    [InlineData("conv2d 4", "--net item 1 (conv2d 4): KERNEL is missing; expected 'conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]'.")]
    [InlineData("globalavgpool 1", "--net item 1 (globalavgpool 1): '1' is one word too many; expected 'globalavgpool'.")]
    public void A_bad_description_is_one_message_naming_the_item(string text, string message)
    {
        var e = Assert.Throws<BackpropException>(() => NetworkSpec.Parse(text));

        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("conv 8 3", 4, "--net item 1 (conv 8 3): takes images [channels, height, width] but gets rows of 4 numbers (image data such as --dataset fashion-mnist is given as images when the first layer takes them).")]
    [InlineData("dense 4, maxpool 2", 4, "--net item 2 (maxpool 2): takes images [channels, height, width] but gets rows of 4 numbers (image data such as --dataset fashion-mnist is given as images when the first layer takes them).")]
    [InlineData("conv 8 3, dense 10", 0, "--net item 2 (dense 10): dense takes rows of numbers but gets images [8, 26, 26]; put flatten (or globalavgpool) before it.")]
    [InlineData("conv 8 3, relu, maxpool 2, conv 8 5, maxpool 2, maxpool 2, maxpool 2, maxpool 2", 0, "--net item 8 (maxpool 2): a 2×2 window does not fit images of 1×1.")]
    [InlineData("conv 8 31 pad 1", 0, "--net item 1 (conv 8 31 pad 1): a 31×31 kernel does not fit images of 28×28 with padding 1.")]
    [InlineData("conv 8 29", 0, "--net item 1 (conv 8 29): a 29×29 kernel does not fit images of 28×28.")]
    [InlineData("flatten, conv 8 3", 0, "--net item 2 (conv 8 3): takes images [channels, height, width] but gets rows of 784 numbers (image data such as --dataset fashion-mnist is given as images when the first layer takes them).")]
    [InlineData("dense 3, globalavgpool", 2, "--net item 2 (globalavgpool): takes images [channels, height, width] but gets rows of 3 numbers (image data such as --dataset fashion-mnist is given as images when the first layer takes them).")]
    public void A_layer_that_cannot_take_its_input_names_the_item_and_the_shape(string text, int rows, string message)
    {
        var input = rows > 0 ? new Shape(rows) : new Shape(1, 28, 28);

        var e = Assert.Throws<BackpropException>(() => NetworkSpec.Parse(text).Build<float>(input));

        Assert.Equal(message, e.Message);
    }
}
