using System.Text.Json;
using Backprop.Tests.Data;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>Every <c>train</c> run prints the model summary before training (each layer, its output shape and parameter count, the totals), and <c>--json</c> holds it.</summary>
public sealed class TrainSummaryTests
{
    // The text between the preamble's blank line and the first line of training.
    private static string SummaryOf(string stdout)
    {
        var text = stdout.ReplaceLineEndings("\n");
        var start = text.IndexOf("\n\nLayer ", StringComparison.Ordinal);
        Assert.True(start > 0, text);
        var end = text.IndexOf("\n\n", start + 2, StringComparison.Ordinal);
        return text[(start + 2)..(end + 1)];
    }

    private static JsonElement SummaryJson(params string[] args)
    {
        var run = Run([.. args, "--json"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var document = JsonDocument.Parse(run.Stdout);
        return document.RootElement.GetProperty("summary").Clone();
    }

    [Fact]
    public void The_lessons_run_prints_its_two_layers_and_seven_parameters_before_training()
    {
        var run = Run();

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            "Layer   Kind                Output shape  Parameters\n"
            + "input                       [1]\n"
            + "layer0  Dense(2, SoftPlus)  [2]                    4\n"
            + "layer1  Dense(1)            [1]                    3\n"
            + "Parameters: 7 (trained 7, fixed 0); buffers: 0 numbers\n",
            SummaryOf(run.Stdout));
        var text = run.Stdout.ReplaceLineEndings("\n");
        Assert.True(text.IndexOf("stopping when", StringComparison.Ordinal) < text.IndexOf("Layer ", StringComparison.Ordinal));
        Assert.True(text.IndexOf("Layer ", StringComparison.Ordinal) < text.IndexOf("Starting SSR", StringComparison.Ordinal));
    }

    [Fact]
    public void Numbers_held_fixed_are_counted_as_fixed()
    {
        var run = Run("train", "--only", "w3,w4,b3", "--max-steps", "2");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.EndsWith("Parameters: 7 (trained 3, fixed 4); buffers: 0 numbers\n", SummaryOf(run.Stdout), StringComparison.Ordinal);
    }

    [Fact]
    public void A_net_with_batch_norm_and_dropout_shows_each_layer_and_the_buffers()
    {
        var run = Run("train", "--net", "dense 3 relu, batchnorm, dropout 0.2, dense 1", "--max-steps", "3");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(
            "Layer   Kind            Output shape  Parameters\n"
            + "input                   [1]\n"
            + "layer0  Dense(3, ReLU)  [3]                    6\n"
            + "layer1  BatchNorm1d(3)  [3]                    6\n"
            + "layer2  Dropout(0.2)    [3]                    0\n"
            + "layer3  Dense(1)        [1]                    4\n"
            + "Parameters: 16 (trained 16, fixed 0); buffers: 6 numbers\n",
            SummaryOf(run.Stdout));
    }

    [Fact]
    public void The_lessons_json_holds_the_summary()
    {
        var summary = SummaryJson();

        Assert.Equal([1], summary.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([1], summary.GetProperty("outputShape").EnumerateArray().Select(d => d.GetInt32()));
        var layers = summary.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["layer0", "layer1"], layers.Select(l => l.GetProperty("name").GetString()));
        Assert.Equal(["dense", "dense"], layers.Select(l => l.GetProperty("kind").GetString()));
        Assert.Equal(["Dense(2, SoftPlus)", "Dense(1)"], layers.Select(l => l.GetProperty("label").GetString()));
        Assert.Equal([2, 1], layers.Select(l => l.GetProperty("outputShape")[0].GetInt32()));
        Assert.Equal([4L, 3L], layers.Select(l => l.GetProperty("parameters").GetInt64()));
        Assert.Equal(7, summary.GetProperty("parameters").GetInt64());
        Assert.Equal(7, summary.GetProperty("trainableParameters").GetInt64());
        Assert.Equal(0, summary.GetProperty("bufferNumbers").GetInt64());
    }

    [Fact]
    public void A_classifiers_json_holds_the_summary()
    {
        using var csv = new TempCsv("x1,x2,kind\n0,0,low\n0,1,high\n1,0,high\n1,1,low\n");

        var summary = SummaryJson("--data", csv.Path, "--layers", "2,8,2", "--activation", "tanh", "--epochs", "2");

        var layers = summary.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["Dense(8, Tanh)", "Dense(2)"], layers.Select(l => l.GetProperty("label").GetString()));
        Assert.Equal([24L, 18L], layers.Select(l => l.GetProperty("parameters").GetInt64()));
        Assert.Equal(42, summary.GetProperty("parameters").GetInt64());
    }

    [FashionMnistFact]
    public void A_conv_net_on_fashion_mnist_shows_image_shapes_in_text_and_json()
    {
        string[] args = ["train", "--dataset", "fashion-mnist", "--limit", "100", "--net", "conv 4 3 pad 1 relu, maxpool 2, flatten, dense 10", "--epochs", "1", "--batch", "50"];

        var run = Run(args);
        var summary = SummaryJson(args);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(
            "Layer   Kind                         Output shape  Parameters\n"
            + "input                                [1, 28, 28]\n"
            + "layer0  Conv2d(4, 3×3, pad 1, ReLU)  [4, 28, 28]           40\n"
            + "layer1  MaxPool2d(2×2)               [4, 14, 14]            0\n"
            + "layer2  Flatten                      [784]                  0\n"
            + "layer3  Dense(10)                    [10]               7,850\n"
            + "Parameters: 7,890 (trained 7,890, fixed 0); buffers: 0 numbers\n",
            SummaryOf(run.Stdout));
        Assert.Equal([1, 28, 28], summary.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(["conv2d", "maxpool2d", "flatten", "dense"], summary.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("kind").GetString()));
        Assert.Equal(7890, summary.GetProperty("parameters").GetInt64());
    }
}
