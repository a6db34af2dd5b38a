using System.Text.Json;
using Backprop.Data;
using Backprop.Tests.Data;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop train</c> on classification data: --dataset, epochs, validation, test accuracy, the confusion matrix.</summary>
public sealed class ClassificationTests
{
    private static readonly string[] JsonKeys =
    [
        "steps", "stopReason", "initialLoss", "loss", "parameterCount", "epochs", "trainAccuracy", "validationAccuracy",
        "testLoss", "testAccuracy", "secondsPerEpoch", "peakMemoryBytes", "classes", "confusionMatrixOf", "confusionMatrix", "predictions", "summary",
    ];

    private static readonly string[] FashionRun =
        ["train", "--dataset", "fashion-mnist", "--limit", "2000", "--layers", "784,32,10", "--activation", "relu", "--optimizer", "adam", "--lr", "0.003", "--epochs", "2", "--batch", "64"];

    private static JsonElement Json(params string[] args)
    {
        var run = Run([.. args, "--json"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr);
        using var document = JsonDocument.Parse(run.Stdout);
        Assert.Equal(JsonKeys, document.RootElement.EnumerateObject().Select(p => p.Name));
        return document.RootElement.Clone();
    }

    [FashionMnistFact]
    public void Fashion_mnist_prints_each_epoch_and_the_test_accuracy()
    {
        var run = Run(FashionRun);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr);
        Assert.Contains("on fashion-mnist: 1800 training rows, 200 validation rows, 2000 test rows, 10 classes", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("(25,450 parameters, float)", run.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Epoch 1/2: train loss \d\.\d{4}, accuracy \d+\.\d\d% \| validation loss \d\.\d{4}, accuracy \d+\.\d\d% \| \d+\.\d\d s", run.Stdout);
        Assert.Contains("Epoch 2/2: ", run.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Test accuracy: \d+\.\d\d% \(2000 rows\)", run.Stdout);
        Assert.Matches(@"Seconds per epoch: \d+\.\d\d \(median of 2\)", run.Stdout);
        Assert.Matches(@"Peak memory: \d+ MiB", run.Stdout);
        Assert.Contains("9 Ankle boot", run.Stdout, StringComparison.Ordinal);
        Assert.All(run.Stdout.Split('\n'), line => Assert.True(line.Length <= 100, line));
    }

    [FashionMnistFact]
    public void Fashion_mnist_json_has_epochs_accuracies_and_seconds_per_epoch()
    {
        var json = Json(FashionRun);

        var epochs = json.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal(2, epochs.Count);
        Assert.Equal(["epoch", "trainLoss", "trainAccuracy", "validationLoss", "validationAccuracy", "seconds"], epochs[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("epochs", json.GetProperty("stopReason").GetString());
        Assert.Equal(2 * 29, json.GetProperty("steps").GetInt32()); // 1,800 rows in batches of 64
        var test = json.GetProperty("testAccuracy").GetDouble();
        Assert.True(test > 0.6, $"test accuracy {test}");
        Assert.InRange(json.GetProperty("trainAccuracy").GetDouble(), 0.6, 1);
        var seconds = epochs.Select(e => e.GetProperty("seconds").GetDouble()).Order().ToArray();
        Assert.Equal((seconds[0] + seconds[1]) / 2, json.GetProperty("secondsPerEpoch").GetDouble(), 12);
        Assert.Equal(FashionMnist.ClassNames, json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("test", json.GetProperty("confusionMatrixOf").GetString());
        var matrix = json.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        Assert.Equal(2000, matrix.Sum(r => r.Sum()));
        Assert.Equal(test, (double)Enumerable.Range(0, 10).Sum(i => matrix[i][i]) / 2000, 12);
        var predictions = json.GetProperty("predictions").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        Assert.Equal(2000, predictions.Length);
        Assert.Equal(matrix.Select((r, i) => r.Sum()), Enumerable.Range(0, 10).Select(c => (long)FashionMnist.LoadTest().Take(2000).Targets.ToArray().Count(t => t == c)));
        Assert.InRange(json.GetProperty("peakMemoryBytes").GetInt64(), 1, 2L << 30);
    }

    [FashionMnistFact]
    public void The_same_seed_gives_the_same_run()
    {
        string[] args = ["--dataset", "fashion-mnist", "--limit", "500", "--layers", "784,8,10", "--optimizer", "adam", "--lr", "0.01", "--epochs", "1", "--batch", "50"];
        var a = Json(args);
        var b = Json(args);
        var c = Json([.. args, "--seed", "2"]);

        Assert.Equal(a.GetProperty("loss").GetDouble(), b.GetProperty("loss").GetDouble());
        Assert.Equal(a.GetProperty("predictions").ToString(), b.GetProperty("predictions").ToString());
        Assert.NotEqual(a.GetProperty("loss").GetDouble(), c.GetProperty("loss").GetDouble());
    }

    [Fact]
    public void A_csv_with_text_labels_trains_a_classifier_by_default()
    {
        using var csv = new TempCsv("x1,x2,kind\n0,0,low\n0,1,high\n1,0,high\n1,1,low\n0.1,0.1,low\n0.9,0.1,high\n0.1,0.9,high\n0.9,0.9,low\n");

        var viaData = Json("--data", csv.Path, "--layers", "2,8,2", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.05", "--epochs", "300");
        var viaDataset = Json("--dataset", csv.Path, "--layers", "2,8,2", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.05", "--epochs", "300");

        // Same run either way (timings and memory aside).
        foreach (var key in (string[])["steps", "initialLoss", "loss", "trainAccuracy", "confusionMatrix", "predictions"])
        {
            Assert.Equal(viaData.GetProperty(key).ToString(), viaDataset.GetProperty(key).ToString());
        }
        Assert.Equal(["high", "low"], viaData.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("training", viaData.GetProperty("confusionMatrixOf").GetString());
        Assert.Equal(1.0, viaData.GetProperty("trainAccuracy").GetDouble());
        Assert.Equal(JsonValueKind.Null, viaData.GetProperty("testAccuracy").ValueKind);
        Assert.Equal(300, viaData.GetProperty("epochs").GetArrayLength());
        Assert.Equal([1, 0, 0, 1, 1, 0, 0, 1], viaData.GetProperty("predictions").EnumerateArray().Select(p => p.GetInt32()));
    }

    [Fact]
    public void Quiet_leaves_out_the_preamble_and_the_epoch_lines()
    {
        using var csv = new TempCsv("x1,x2,kind\n0,0,low\n0,1,high\n1,0,high\n1,1,low\n");
        string[] args = ["--data", csv.Path, "--layers", "2,4,2", "--optimizer", "adam", "--lr", "0.05", "--epochs", "3"];

        var talkative = Run(args);
        var quiet = Run([.. args, "--quiet"]);

        Assert.Equal(0, quiet.ExitCode);
        Assert.Contains("Epoch 1/3:", talkative.Stdout, StringComparison.Ordinal);
        Assert.Contains("Training Dense(", talkative.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Epoch 1/3:", quiet.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Training Dense(", quiet.Stdout, StringComparison.Ordinal);
        Assert.Contains("Stopped after", quiet.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_and_standardisation_work_on_a_csv()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 200).Select(i => $"{i * 10},{(i * 37 % 200) * 0.01},{(i < 100 ? "a" : "b")}"));
        using var csv = new TempCsv("big,small,label\n" + rows + "\n");

        var run = Run("--data", csv.Path, "--target", "label", "--layers", "2,4,2", "--optimizer", "adam", "--lr", "0.05", "--epochs", "20", "--batch", "32", "--validation", "0.25", "--standardize");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("150 training rows, 50 validation rows, 2 classes, inputs standardised on the training rows", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Epoch 20/20:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("validation loss", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix of the validation rows", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Integer_labels_are_classes_with_cross_entropy()
    {
        using var csv = new TempCsv("x1,x2,class\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");

        var json = Json("--data", csv.Path, "--loss", "cross-entropy", "--layers", "2,4,2", "--optimizer", "adam", "--max-steps", "300");

        Assert.True(json.GetProperty("loss").GetDouble() < json.GetProperty("initialLoss").GetDouble());
        Assert.Equal(["0", "1"], json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(4, json.GetProperty("predictions").GetArrayLength());
    }

    [Theory]
    [InlineData("--data x.csv --dataset dosage", "--data|--dataset")]
    [InlineData("--target 2", "--target|CSV")]
    [InlineData("--validation 1", "--validation|'1'")]
    [InlineData("--validation -0.1", "--validation")]
    [InlineData("--limit 0", "--limit|'0'")]
    [InlineData("--precision half", "--precision|'half'")]
    [InlineData("--epochs 0", "--epochs|0")]
    [InlineData("--dataset dosage --loss cross-entropy --layers 1,2,3", "3 outputs|2 classes")]
    [InlineData("--dataset dosage --validation 0.1", "--validation 0.1 of 3 rows leaves 0 for validation")]
    [InlineData("--dataset no-such-file.csv", "no-such-file.csv|cannot read")]
    public void Bad_data_options_give_one_line(string args, string mentions)
    {
        var message = AssertBadInput(Run(args.Split(' ')));

        foreach (var mention in mentions.Split('|'))
        {
            Assert.Contains(mention, message, StringComparison.Ordinal);
        }
    }

    [FashionMnistFact]
    public void Fashion_mnist_needs_one_output_per_class_and_cross_entropy()
    {
        Assert.Contains("10 classes", AssertBadInput(Run("--dataset", "fashion-mnist", "--layers", "784,5,3")), StringComparison.Ordinal);
        Assert.Contains("--loss cross-entropy", AssertBadInput(Run("--dataset", "fashion-mnist", "--loss", "mse", "--layers", "784,10")), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_layers_a_classifier_is_suggested_from_the_data()
    {
        using var csv = new TempCsv("a,b,c,kind\n1,2,3,x\n4,5,6,y\n7,8,9,z\n");

        var message = AssertBadInput(Run("--data", csv.Path));

        Assert.Contains("--layers from the 3 inputs to the 3 classes", message, StringComparison.Ordinal);
        Assert.Contains("e.g. --layers 3,12,3", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dosage_is_the_default_dataset()
    {
        Assert.Equal(Run().Stdout, Run("--dataset", "dosage").Stdout);
    }
}
