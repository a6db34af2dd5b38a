using System.Text.Json;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

public sealed class ModelSummaryTests
{
    [Fact]
    public void The_reference_cnn_has_torchinfos_shapes_and_counts()
    {
        var summary = ModelSummary.Of(ReferenceCnn.Create<float>(1), ReferenceCnn.InputShape);

        // As PyTorch counts them: 32·1·9 + 32, 64·32·9 + 64, 3136·128 + 128, 128·10 + 10 = 421,642.
        Assert.Equal(
            "Layer   Kind                          Output shape  Parameters\n" +
            "input                                 [1, 28, 28]\n" +
            "layer0  Conv2d(32, 3×3, pad 1, ReLU)  [32, 28, 28]         320\n" +
            "layer1  MaxPool2d(2×2)                [32, 14, 14]           0\n" +
            "layer2  Conv2d(64, 3×3, pad 1, ReLU)  [64, 14, 14]      18,496\n" +
            "layer3  MaxPool2d(2×2)                [64, 7, 7]             0\n" +
            "layer4  Flatten                       [3136]                 0\n" +
            "layer5  Dense(128, ReLU)              [128]            401,536\n" +
            "layer6  Dense(10)                     [10]               1,290\n" +
            "Parameters: 421,642 (trained 421,642, fixed 0); buffers: 0 numbers\n",
            summary.ToText());
        Assert.Equal(421_642, summary.Parameters);
        Assert.Equal(new Shape(10), summary.OutputShape);
        Assert.Equal(["conv2d", "maxpool2d", "conv2d", "maxpool2d", "flatten", "dense", "dense"], summary.Layers.Select(l => l.Kind));
    }

    [Fact]
    public void Batch_norm_statistics_are_buffers_and_frozen_numbers_are_not_trained()
    {
        var network = new Sequential<double>(
            new Dense<double>(4, 3),
            new BatchNorm1d<double>(3),
            new ActivationLayer<double>(Activation.Tanh),
            new Dropout<double>(0.5, seed: 1),
            new Dense<double>(3, 2));
        network.TrainOnly(["layer0.weight[0,0]", "layer4.bias[1]"]);

        var summary = ModelSummary.Of(network, new Shape(4));

        Assert.Equal([15L, 6, 0, 0, 8], summary.Layers.Select(l => l.Parameters));
        Assert.Equal([1L, 0, 0, 0, 1], summary.Layers.Select(l => l.TrainableParameters));
        Assert.Equal([0L, 6, 0, 0, 0], summary.Layers.Select(l => l.BufferNumbers));
        Assert.Equal(["Dense(3)", "BatchNorm1d(3)", "Tanh", "Dropout(0.5)", "Dense(2)"], summary.Layers.Select(l => l.Label));
        Assert.Equal((29L, 2L, 27L, 6L), (summary.Parameters, summary.TrainableParameters, summary.NonTrainableParameters, summary.BufferNumbers));
        Assert.EndsWith("Parameters: 29 (trained 2, fixed 27); buffers: 6 numbers\n", summary.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_form_holds_the_same_data()
    {
        var network = new Sequential<double>(new Conv2d<double>(2, 3, 3, stride: 2, bias: false), new BatchNorm2d<double>(3), new GlobalAvgPool<double>(), new Dense<double>(3, 1));

        using var document = JsonDocument.Parse(ModelSummary.Of(network, new Shape(2, 9, 7)).ToJson());

        var root = document.RootElement;
        static string Dims(JsonElement e) => string.Join(",", e.EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("2,9,7", Dims(root.GetProperty("inputShape")));
        Assert.Equal("1", Dims(root.GetProperty("outputShape")));
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["Conv2d(3, 3×3, stride 2, no bias)", "BatchNorm2d(3)", "GlobalAvgPool", "Dense(1)"], layers.Select(l => l.GetProperty("label").GetString()));
        Assert.Equal(["3,4,3", "3,4,3", "3", "1"], layers.Select(l => Dims(l.GetProperty("outputShape"))));
        Assert.Equal([54, 6, 0, 4], layers.Select(l => l.GetProperty("parameters").GetInt32()));
        Assert.Equal([0, 6, 0, 0], layers.Select(l => l.GetProperty("bufferNumbers").GetInt32()));
        Assert.Equal(64, root.GetProperty("parameters").GetInt32());
        Assert.Equal(64, root.GetProperty("trainableParameters").GetInt32());
        Assert.Equal(0, root.GetProperty("nonTrainableParameters").GetInt32());
        Assert.Equal(6, root.GetProperty("bufferNumbers").GetInt32());
    }

    private sealed class Doubler : Module<double>
    {
        public override Tensor<double> Forward(Tensor<double> input) => input.Reshape(input.Shape[0], input.Shape.Length / input.Shape[0]) * 2.0;

        public override string Describe() => "Doubler";
    }

    [Fact]
    public void A_module_of_your_own_is_shown_by_its_description_and_the_shape_it_gives()
    {
        var network = new Sequential<double>(new Doubler(), new Dense<double>(12, 2));

        var summary = ModelSummary.Of(network, new Shape(3, 4));

        Assert.Equal([null, "dense"], summary.Layers.Select(l => l.Kind));
        Assert.Equal(["Doubler", "Dense(2)"], summary.Layers.Select(l => l.Label));
        Assert.Equal([new Shape(12), new Shape(2)], summary.Layers.Select(l => l.OutputShape));
        Assert.True(network.IsTraining);
    }

    [Fact]
    public void A_layer_that_cannot_take_its_input_is_named()
    {
        var network = new Sequential<double>(new Conv2d<double>(1, 2, 3), new Dense<double>(8, 2));

        var e = Assert.Throws<BackpropException>(() => ModelSummary.Of(network, new Shape(1, 4, 4)));

        Assert.Equal("Layer 1 (Dense(8 → 2, Identity)) cannot take examples of shape [2, 2, 2]: dense takes rows of numbers, not examples of shape [2, 2, 2]; put a flatten before it.", e.Message);
    }

    [Fact]
    public void A_model_summarises_its_network_for_its_input_shape()
    {
        var model = new Backprop.Serialization.Model<float>(ReferenceCnn.Create<float>(1), ReferenceCnn.InputShape);

        Assert.Equal(ModelSummary.Of(model.Network, ReferenceCnn.InputShape).ToText(), model.Summary().ToText());
    }
}
