using Backprop.Tests.Data;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>--net</c>: a network as a list of layers, built by the library's <c>NetworkSpec</c>.</summary>
public sealed class NetOptionTests
{
    [Fact]
    public void A_dense_net_is_the_same_run_as_the_layers_option()
    {
        string[] common = ["--init", "xavier", "--max-steps", "30", "--optimizer", "adam", "--lr", "0.05"];

        var layers = RunJson([.. common, "--layers", "1,4,1", "--activation", "tanh"]);
        var net = RunJson([.. common, "--net", "dense 4 tanh, dense 1"]);
        var apart = RunJson([.. common, "--net", "dense 4, tanh, dense 1"]);

        Assert.Equal(layers.Text, net.Text);
        Assert.Equal(layers.Text, apart.Text);
        Assert.Equal(13, net.Parameters.Count);
        Assert.True(net.Loss < net.InitialLoss);
    }

    [Fact]
    public void The_preamble_names_each_layer_of_the_net()
    {
        var run = Run("train", "--net", "dense 3 relu, batchnorm, dropout 0.2, dense 1", "--max-steps", "3");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Training Dense(1 → 3, ReLU) → BatchNorm1d(3) → Dropout(p = 0.2) → Dense(3 → 1, Identity) (16 parameters, double)", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--net|dense 4 relu|--layers|1,4,1", "backprop: --net and --layers both describe the network; give one of them.")]
    [InlineData("--net|dense 4, dense 1|--activation|relu", "backprop: --activation is for --layers; with --net, write the activation as an item (dense 16 relu, or relu after a layer).")]
    [InlineData("--net|dense 4 relu, dense 2", "backprop: --net ends with 2 outputs but the data (dosage) has 1 target column; end it with dense 1.")]
    [InlineData("--net|dense four", "backprop: --net item 1 (dense four): UNITS must be a positive whole number, not 'four'.")]
    [InlineData("--net|dense 4,relu,,dense 1", "backprop: --net item 3 is empty: two commas in a row, or a comma at the start or end.")]
    [InlineData("--net|conv 4 3, flatten, dense 1", "backprop: --net item 1 (conv 4 3): takes images [channels, height, width] but gets rows of 1 number (image data such as --dataset fashion-mnist is given as images when the first layer takes them).")]
    [InlineData("--net|dense 4 relu, dense 1|--stage|2", "backprop: --stage is for the lesson's network (--layers 1,2,1), not for --net.")]
    [InlineData("--net|dense 4 relu, dense 1|--init|lesson", "backprop: --init lesson gives the lesson's starting values, which fit only --layers 1,2,1, not --net.")]
    [InlineData("--net|", "backprop: --net is empty; give its layers separated by commas, e.g. --net \"dense 16 relu, dense 3\".")]
    public void A_bad_net_is_one_line_and_exit_code_2(string args, string line)
    {
        foreach (var command in new[] { "train", "gradcheck" })
        {
            Assert.Equal(line, AssertBadInput(Run([command, .. args.Split('|')])));
        }
    }

    [Fact]
    public void Help_shows_the_net_syntax_with_an_example()
    {
        var help = Run("train", "--help").Stdout;

        Assert.Contains("--net", help, StringComparison.Ordinal);
        Assert.Contains("conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]", help.ReplaceLineEndings(" ").Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("maxpool 2, flatten", help, StringComparison.Ordinal);
    }

    [FashionMnistFact]
    public void Fashion_mnist_reaches_a_conv_net_as_images()
    {
        var run = Run("train", "--dataset", "fashion-mnist", "--limit", "300", "--net", "conv 4 3 pad 1 relu, maxpool 2, flatten, dense 10",
            "--optimizer", "adam", "--lr", "0.01", "--epochs", "2", "--batch", "50");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr);
        Assert.Contains("Training Conv2d(1 → 4, 3×3, padding 1, ReLU) → MaxPool2d(2×2) → Flatten → Dense(784 → 10, Identity) (7,890 parameters, float)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Epoch 2/2: ", run.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Test accuracy: \d+\.\d\d% \(300 rows\)", run.Stdout);
    }

    [FashionMnistFact]
    public void Fashion_mnist_reaches_a_dense_net_as_rows()
    {
        var run = Run("train", "--dataset", "fashion-mnist", "--limit", "200", "--net", "flatten, dense 10", "--epochs", "1", "--batch", "50", "--quiet");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Matches(@"Test accuracy: \d+\.\d\d% \(200 rows\)", run.Stdout);
    }
}
