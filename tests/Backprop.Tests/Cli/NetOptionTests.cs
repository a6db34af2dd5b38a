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

/// <summary>The other commands on --net networks: gradcheck samples them, explain and graph refuse what they do not cover, --out refuses early what a model file cannot hold.</summary>
public sealed class NetCommandTests
{
    [Theory]
    [InlineData("explain", "dense 3 tanh, batchnorm, dense 1", "BatchNorm1d(3)")]
    [InlineData("graph", "dense 3 tanh, dropout 0.2, dense 1", "Dropout(p = 0.2)")]
    public void Explain_and_graph_refuse_a_network_of_other_layers_naming_the_layer(string command, string net, string layer)
    {
        Assert.Equal(
            $"backprop: {command} shows the scalar view of the lesson (one named number per node), which covers networks of dense layers only; this network has {layer}. gradcheck checks the gradients of any network.",
            AssertBadInput(Run(command, "--net", net)));
    }

    [Fact]
    public void Explain_and_graph_take_a_net_of_dense_layers()
    {
        var explain = Run("explain", "--net", "dense 3 tanh, dense 1");
        var graph = Run("graph", "--net", "dense 3 tanh, dense 1");

        Assert.True(explain.ExitCode == 0, explain.Stderr);
        Assert.Contains("Dense(1 → 3, Tanh) → Dense(3 → 1, Identity)", explain.Stdout, StringComparison.Ordinal);
        Assert.True(graph.ExitCode == 0, graph.Stderr);
        Assert.StartsWith("digraph", graph.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Gradcheck_of_a_small_net_checks_every_number()
    {
        var run = Run("gradcheck", "--net", "dense 3 tanh, batchnorm, dense 1");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.DoesNotContain("sample", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Passed: all 16 gradients agree", run.Stdout, StringComparison.Ordinal);
    }

    [FashionMnistFact]
    public void Gradcheck_of_a_conv_net_on_images_checks_a_seeded_sample_and_says_how_many()
    {
        string[] args = ["gradcheck", "--dataset", "fashion-mnist", "--limit", "3", "--net", "conv 2 3 tanh, maxpool 2, flatten, dense 10", "--seed", "5"];

        var run = Run(args);
        var json = Run([.. args, "--json"]);

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        // conv weight 18 → 16, bias 2, dense weight 3,380 → 16, bias 10.
        Assert.Contains("A seeded sample (--seed 5): 16 numbers of each parameter with more, every number of the others; 44 of the network's 3,410 numbers.", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Passed: all 44 gradients agree", run.Stdout, StringComparison.Ordinal);
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var sample = document.RootElement.GetProperty("sample");
        Assert.Equal(16, sample.GetProperty("perParameter").GetInt32());
        Assert.Equal("5", sample.GetProperty("seed").GetString());
        Assert.Equal(44, sample.GetProperty("checked").GetInt32());
        Assert.Equal(3410, sample.GetProperty("total").GetInt32());
        Assert.Equal(44, document.RootElement.GetProperty("parameters").GetArrayLength());
    }

    [FashionMnistFact]
    public void A_conv_net_draws_its_pictures_and_report()
    {
        var folder = Directory.CreateTempSubdirectory("backprop-net-");
        try
        {
            var plots = Path.Combine(folder.FullName, "plots");
            var report = Path.Combine(folder.FullName, "run.html");
            var run = Run("train", "--dataset", "fashion-mnist", "--limit", "200", "--net", "conv 2 3 relu, maxpool 2, flatten, dense 10",
                "--epochs", "1", "--batch", "50", "--plot", plots, "--report", report, "--json");

            Assert.True(run.ExitCode == 0, run.Stderr);
            foreach (var picture in new[] { "loss", "accuracy", "confusion", "misclassified" })
            {
                Assert.True(File.Exists(Path.Combine(plots, picture + ".png")), picture);
            }
            Assert.True(new FileInfo(report).Length > 0);
            // The grid: test images the run got wrong, most confident first, each one of the run's own mistakes.
            using var json = System.Text.Json.JsonDocument.Parse(run.Stdout);
            Assert.Equal("test", json.RootElement.GetProperty("confusionMatrixOf").GetString());
            var classes = json.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToList();
            var predicted = json.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetInt32()).ToList();
            var test = Backprop.Data.FashionMnist.LoadTest().Take(200);
            var mistakes = Enumerable.Range(0, 200).Where(r => predicted[r] != (int)test.Targets[r]).Select(r => (classes[(int)test.Targets[r]], classes[predicted[r]])).ToList();
            var texts = System.Xml.Linq.XDocument.Load(Path.Combine(plots, "misclassified.svg")).Descendants((System.Xml.Linq.XNamespace)"http://www.w3.org/2000/svg" + "text").Select(t => t.Value.Trim()).ToList();
            var tiles = texts.Where(t => t.StartsWith("true: ", StringComparison.Ordinal)).Zip(texts.Where(t => t.StartsWith("pred: ", StringComparison.Ordinal)))
                .Select(p => (True: p.First["true: ".Length..], Predicted: p.Second["pred: ".Length..p.Second.LastIndexOf(' ')], Percent: double.Parse(p.Second[(p.Second.LastIndexOf(' ') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture))).ToList();
            Assert.NotEmpty(tiles);
            Assert.Equal(tiles.Select(t => t.Percent).OrderDescending(), tiles.Select(t => t.Percent));
            foreach (var (observed, guess, _) in tiles)
            {
                Assert.NotEqual(observed, guess);
                Assert.True(mistakes.Remove((observed, guess)), $"{observed} taken for {guess} is not one of the run's mistakes");
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Out_saves_a_net_with_dropout_and_batchnorm_that_predict_loads()
    {
        var folder = Directory.CreateTempSubdirectory("backprop-net-");
        try
        {
            var file = Path.Combine(folder.FullName, "m.bpm");
            var train = Run("train", "--net", "dense 3 tanh, batchnorm, dropout 0.5, dense 1", "--max-steps", "5", "--out", file, "--quiet");
            var predict = Run("predict", "--model", file, "--input", "0.5");

            Assert.True(train.ExitCode == 0, train.Stderr);
            Assert.True(predict.ExitCode == 0, predict.Stderr);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
