using System.Globalization;
using System.Text.Json;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Runs;
using Backprop.Tests.Serialization;
using Backprop.Training;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>One run for every task: what regression and classification runs now share on the command line.</summary>
public sealed class RunTests
{
    // y = 2x + 1 on 40 points: a regression that trains in a few epochs.
    private static string Line() => "x,y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i / 40.0},{(2 * i / 40.0) + 1}\n")));

    [Fact]
    public void A_regression_run_holds_out_validation_rows_and_prints_a_line_per_epoch()
    {
        using var csv = new TempCsv(Line());

        var run = Run("--data", csv.Path, "--layers", "1,4,1", "--activation", "tanh", "--loss", "mse", "--validation", "0.25", "--epochs", "3", "--batch", "10");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("on data.csv: 30 training rows, 10 validation rows\n", run.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("MSE loss, gradient descent with learning rate 0.1, batches of 10 rows shuffled with seed 1\n", run.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        foreach (var epoch in (int[])[1, 2, 3])
        {
            Assert.Matches($@"\nEpoch {epoch}/3: train loss [0-9.]+ \| validation loss [0-9.]+, RMSE [0-9.]+, MAE [0-9.]+, R² -?[0-9.]+ \| [0-9.]+ s\r?\n", run.Stdout);
        }
        Assert.Contains("Stopped after 9 steps: finished 3 epochs", run.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"\nOn the validation rows \(10\): MSE [0-9.e-]+, RMSE [0-9.e-]+, MAE [0-9.e-]+, R² -?[0-9.e-]+\r?\n", run.Stdout);
    }

    [Fact]
    public void A_regression_json_holds_every_epoch_with_its_validation_metrics_as_the_library_run_measured_them()
    {
        using var csv = new TempCsv(Line());

        var json = RunJson("--data", csv.Path, "--layers", "1,4,1", "--activation", "tanh", "--loss", "mse", "--validation", "0.25", "--epochs", "3", "--batch", "10");

        var spec = new RunSpec
        {
            Data = RunData.Prepare(CsvDataset.Load(csv.Path), validationFraction: 0.25, seed: 1),
            Network = new NetworkRecipe([1, 4, 1], Activation.Tanh),
            Loss = new MeanSquaredError(),
            Options = new TrainingOptions { Epochs = 3, BatchSize = 10 },
        };
        var expected = new TrainingRun(spec).Run().Epochs;
        using var document = JsonDocument.Parse(json.Text);
        var epochs = document.RootElement.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal(3, epochs.Count);
        for (var i = 0; i < 3; i++)
        {
            var (e, m) = (epochs[i], expected[i].ValidationMetrics!.Value);
            Assert.Equal(["epoch", "trainLoss", "validationLoss", "validationMse", "validationRmse", "validationMae", "validationR2", "seconds"], e.EnumerateObject().Select(p => p.Name));
            Assert.Equal(i + 1, e.GetProperty("epoch").GetInt32());
            AssertBits(expected[i].TrainLoss, e.GetProperty("trainLoss").GetDouble());
            AssertBits(expected[i].ValidationLoss!.Value, e.GetProperty("validationLoss").GetDouble());
            AssertBits(m.Mse, e.GetProperty("validationMse").GetDouble());
            AssertBits(m.Rmse, e.GetProperty("validationRmse").GetDouble());
            AssertBits(m.Mae, e.GetProperty("validationMae").GetDouble());
            AssertBits(m.RSquared, e.GetProperty("validationR2").GetDouble());
            Assert.True(e.GetProperty("seconds").GetDouble() >= 0);
        }
    }

    [Fact]
    public void A_regression_json_without_validation_has_null_validation_metrics_and_the_lessons_run_no_epochs()
    {
        using var csv = new TempCsv(Line());

        var json = RunJson("--data", csv.Path, "--layers", "1,4,1", "--loss", "mse", "--epochs", "2");
        var lesson = RunJson();

        using var document = JsonDocument.Parse(json.Text);
        var epochs = document.RootElement.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal([1, 2], epochs.Select(e => e.GetProperty("epoch").GetInt32()));
        foreach (var key in (string[])["validationLoss", "validationMse", "validationRmse", "validationMae", "validationR2"])
        {
            Assert.All(epochs, e => Assert.Equal(JsonValueKind.Null, e.GetProperty(key).ValueKind));
        }
        Assert.Equal(JsonValueKind.Number, epochs[1].GetProperty("trainLoss").ValueKind);
        // The lesson's run counts steps, each a full-batch epoch, and prints no epoch lines: none in its JSON either.
        using var lessonDocument = JsonDocument.Parse(lesson.Text);
        Assert.Equal(0, lessonDocument.RootElement.GetProperty("epochs").GetArrayLength());
    }

    [Theory]
    [InlineData("1", "backprop: --validation takes a fraction from 0 to below 1, e.g. 0.1; got '1'. (see 'backprop train --help')")]
    [InlineData("-0.1", "backprop: --validation takes a fraction from 0 to below 1, e.g. 0.1; got '-0.1'. (see 'backprop train --help')")]
    [InlineData("0.99", "backprop: --validation 0.99 of 40 rows leaves 40 for validation and 0 for training; both need at least one.")]
    public void A_regressions_validation_fraction_that_leaves_a_set_empty_is_refused(string fraction, string expected)
    {
        using var csv = new TempCsv(Line());

        Assert.Equal(expected, AssertBadInput(Run("train", "--data", csv.Path, "--validation", fraction)));
    }

    [Fact]
    public void A_standardised_regression_model_keeps_its_normalisation()
    {
        using var csv = new TempCsv(Line());
        using var folder = new TempFolder();
        var model = folder.File("m.bpm");

        var trained = Run("--data", csv.Path, "--layers", "1,3,1", "--standardize", "--loss", "mse", "--max-steps", "50", "--out", model, "--json");
        var predicted = Run("predict", "--model", model, "--data", csv.Path, "--json");

        Assert.True(trained.ExitCode == 0, trained.Stderr);
        Assert.True(predicted.ExitCode == 0, predicted.Stderr);
        // The run predicted on standardised inputs; the saved model standardises raw inputs itself.
        using var a = JsonDocument.Parse(trained.Stdout);
        using var b = JsonDocument.Parse(predicted.Stdout);
        var fromRun = a.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()).ToArray();
        var fromModel = b.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p[0].GetDouble()).ToArray();
        Assert.Equal(40, fromModel.Length);
        for (var i = 0; i < fromRun.Length; i++)
        {
            Assert.Equal(fromRun[i], fromModel[i], 12);
        }
    }

    [Fact]
    public void A_classification_run_draws_its_pictures_and_report_and_watches_its_gradients()
    {
        using var folder = new TempFolder();
        var csv = folder.File("xor.csv");
        File.WriteAllText(csv, "a,b,kind\n0,0,low\n0,1,high\n1,0,high\n1,1,low\n0.1,0.1,low\n0.9,0.1,high\n0.1,0.9,high\n0.9,0.9,low\n");
        var plots = folder.File("plots");
        var report = folder.File("run.html");

        var run = Run("--data", csv, "--layers", "2,8,2", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.05", "--epochs", "50",
            "--plot", plots, "--report", report, "--monitor", "--precision", "float");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(
            ["accuracy", "confusion", "epochs", "fit", "gradients", "loss"],
            Directory.GetFiles(plots, "*.png").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal));
        Assert.Contains("Pictures: fit, loss, gradients, epochs, accuracy, confusion (PNG and SVG)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("<h2>Classification</h2>", File.ReadAllText(report), StringComparison.Ordinal);
        Assert.Contains("Gradient health (per layer, 50 steps)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("(42 parameters, float)", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_whose_loss_grows_by_orders_of_magnitude_warns_and_exits_with_3()
    {
        var run = Run("--only", "w3,w4", "--json");

        Assert.Equal(3, run.ExitCode);
        Assert.Matches(@"^backprop: warning: training diverged: the loss grew from 1\.89588 to [0-9.E+]+ \(more than 1E\+06 times\) by step \d+ \(try a smaller learning rate\)\r?\n$", run.Stderr);
        // The result is still reported, and says how the run ended.
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(1000, json.RootElement.GetProperty("steps").GetInt32());
    }

    [Theory]
    [InlineData("gd", "gradient descent")]
    [InlineData("sgd", "gradient descent")]
    [InlineData("momentum", "momentum")]
    [InlineData("adam", "Adam")]
    public void The_optimizer_is_named_one_way_in_the_preamble_the_report_and_explain(string option, string name)
    {
        using var folder = new TempFolder();
        var report = folder.File("run.html");

        var run = Run("--optimizer", option, "--max-steps", "5", "--report", report);
        var explain = Run("explain", "--param", "w1", "--optimizer", option, "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"on dosage (3 rows), SSR loss, {name} with learning rate 0.1", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"<dt>optimizer</dt><dd>{name}</dd>", File.ReadAllText(report), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(explain.Stdout);
        Assert.Equal(option == "sgd" ? "gd" : option, json.RootElement.GetProperty("optimizer").GetString());
    }

    [Fact]
    public void Help_is_a_command_too()
    {
        Assert.Equal(Run("--help").Stdout, Run("help").Stdout);
        Assert.Equal(Run("train", "--help").Stdout, Run("help", "train").Stdout);
        Assert.Contains("--optimizer", Run("help", "train").Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train --optimzer adam", "backprop: Unrecognized command or argument '--optimzer'; did you mean '--optimizer'? (see 'backprop train --help')")]
    [InlineData("--epoch 3", "backprop: Unrecognized command or argument '--epoch'; did you mean '--epochs'? (see 'backprop --help')")]
    [InlineData("evalute --model m.bpm", "backprop: Unrecognized command or argument 'evalute'; did you mean 'evaluate'? (see 'backprop --help')")]
    [InlineData("train --zzzzzz", "backprop: Unrecognized command or argument '--zzzzzz'. (see 'backprop train --help')")]
    public void A_mistyped_option_gets_a_suggestion(string args, string expected)
        => Assert.Equal(expected, AssertBadInput(Run(args.Split(' '))));

    [FashionMnistFact]
    public void Evaluate_scores_a_saved_model_on_the_fashion_mnist_test_set()
    {
        using var folder = new TempFolder();
        var model = folder.File("f.bpm");
        var trained = Run("--dataset", "fashion-mnist", "--limit", "600", "--layers", "784,16,10", "--optimizer", "adam", "--lr", "0.01", "--epochs", "1", "--batch", "64", "--out", model, "--quiet");
        Assert.True(trained.ExitCode == 0, trained.Stderr);

        var run = Run("evaluate", "--model", model, "--dataset", "fashion-mnist", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(10000, json.RootElement.GetProperty("rows").GetInt32());
        Assert.InRange(json.RootElement.GetProperty("accuracy").GetDouble(), 0.3, 1);
        Assert.Equal(10000, json.RootElement.GetProperty("confusionMatrix").EnumerateArray().Sum(r => r.EnumerateArray().Sum(c => c.GetInt32())));
        // The library's numbers: the saved model's predicted class of each test image against its label.
        var loaded = Backprop.Serialization.Model<double>.Load(model);
        var test = FashionMnist.LoadTest();
        var outputs = loaded.Predict(test.InputTensor<double>()).ToDoubleArray();
        var correct = Enumerable.Range(0, test.Count).Count(r => Backprop.Training.ConfusionMatrix.ArgMax<double>(outputs.AsSpan(r * 10, 10)) == (int)test.Targets[r]);
        Assert.Equal((double)correct / test.Count, json.RootElement.GetProperty("accuracy").GetDouble());
    }

    [Theory]
    [InlineData("--dataset iris", "backprop: Unknown dataset 'iris'; the built-in datasets are: dosage, fashion-mnist (its test set).")]
    [InlineData("", "backprop: evaluate needs the rows to score: --data FILE.csv or --dataset NAME.")]
    [InlineData("--dataset dosage --data DATA", "backprop: evaluate scores either --data FILE.csv or --dataset NAME, not both.")]
    public void Evaluate_names_a_dataset_it_does_not_know_or_a_choice_it_needs(string args, string expected)
    {
        using var folder = new TempFolder();
        var model = folder.File("m.bpm");
        Assert.Equal(0, Run("--max-steps", "1", "--out", model, "--quiet").ExitCode);
        File.WriteAllText(folder.File("data.csv"), "x,y\n0,0\n");

        var words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a == "DATA" ? folder.File("data.csv") : a);

        Assert.Equal(expected, AssertBadInput(Run(["evaluate", "--model", model, .. words])));
    }
}
