using System.Globalization;
using System.Text.Json;
using static Backprop.Tests.Cli.CliHarness;
using static Backprop.Tests.Cli.TuningOptionsTests;

namespace Backprop.Tests.Cli;

/// <summary><c>--log FILE.csv</c> and <c>--log-every N</c>, for regression and classification.</summary>
public sealed class RunLogTests
{
    private static string[][] ReadCsv(string path)
        => [.. File.ReadAllLines(path).Select(l => l.Split(','))];

    private static double Cell(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void A_regression_log_has_a_row_per_epoch_with_its_validation_metrics_and_learning_rate()
    {
        using var csv = new TempCsv(CurveCsv());
        var log = Path.Combine(Path.GetDirectoryName(csv.Path)!, "run.csv");

        var run = Run("train", "--data", csv.Path, "--layers", "1,8,1", "--activation", "tanh", "--loss", "mse", "--optimizer", "adam", "--lr", "0.02",
            "--epochs", "6", "--batch", "16", "--validation", "0.25", "--schedule", "step:2:0.5", "--log", log);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"Log: {log} (6 epochs)", run.Stdout, StringComparison.Ordinal);
        var rows = ReadCsv(log);
        Assert.Equal(["epoch", "step", "train_loss", "validation_loss", "validation_mse", "validation_rmse", "validation_mae", "validation_r2", "learning_rate", "seconds", "elapsed_seconds"], rows[0]);
        Assert.Equal(7, rows.Length);
        for (var e = 1; e <= 6; e++)
        {
            var row = rows[e];
            Assert.Equal(e.ToString(CultureInfo.InvariantCulture), row[0]);
            Assert.Equal((3 * e).ToString(CultureInfo.InvariantCulture), row[1]); // 45 training rows: 3 batches of 16
            // step:2:0.5 halves the rate every 2 epochs.
            Assert.Equal(0.02 * Math.Pow(0.5, (e - 1) / 2), Cell(row[8]));
            // MSE is the loss here; RMSE its root.
            Assert.Equal(Cell(row[3]), Cell(row[4]), 12);
            Assert.Equal(Math.Sqrt(Cell(row[4])), Cell(row[5]), 12);
            Assert.True(Cell(row[7]) <= 1);
            Assert.True(Cell(row[10]) >= Cell(row[9]));
        }
        // The epoch lines print the same numbers as the log, and the rate with a schedule.
        Assert.Contains($"Epoch 6/6: train loss {Cell(rows[6][2]):F4} | validation loss {Cell(rows[6][3]):F4}", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("| lr 0.005 |", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_classifier_log_every_3_epochs_holds_the_json_epochs_bit_for_bit_and_the_last()
    {
        using var csv = new TempCsv(NoisyClassesCsv());
        var log = Path.Combine(Path.GetDirectoryName(csv.Path)!, "run.csv");
        string[] args = ["train", "--data", csv.Path, "--layers", "2,8,3", "--optimizer", "adam", "--lr", "0.02", "--epochs", "10", "--batch", "32", "--validation", "0.2"];

        var run = Run([.. args, "--log", log, "--log-every", "3", "--json"]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var epochs = json.RootElement.GetProperty("epochs").EnumerateArray().ToList();
        var rows = ReadCsv(log);
        Assert.Equal(["epoch", "step", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "learning_rate", "seconds", "elapsed_seconds"], rows[0]);
        Assert.Equal(["3", "6", "9", "10"], rows.Skip(1).Select(r => r[0]));
        foreach (var row in rows.Skip(1))
        {
            var e = epochs[int.Parse(row[0], CultureInfo.InvariantCulture) - 1];
            AssertBits(e.GetProperty("trainLoss").GetDouble(), Cell(row[2]));
            AssertBits(e.GetProperty("trainAccuracy").GetDouble(), Cell(row[3]));
            AssertBits(e.GetProperty("validationLoss").GetDouble(), Cell(row[4]));
            AssertBits(e.GetProperty("validationAccuracy").GetDouble(), Cell(row[5]));
            Assert.Equal("0.02", row[6]);
        }
    }

    [Fact]
    public void Log_every_thins_a_classifiers_epoch_lines_and_always_shows_the_last()
    {
        using var csv = new TempCsv(NoisyClassesCsv());

        var run = Run("train", "--data", csv.Path, "--layers", "2,8,3", "--epochs", "7", "--batch", "50", "--log-every", "3");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.Split('\n').Where(l => l.StartsWith("Epoch ", StringComparison.Ordinal)).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]);
        Assert.Equal(["Epoch 3/7", "Epoch 6/7", "Epoch 7/7"], lines);
    }

    [Fact]
    public void Log_every_thins_a_regressions_epoch_lines_and_always_shows_the_last()
    {
        using var csv = new TempCsv(CurveCsv());
        string[] args = ["train", "--data", csv.Path, "--layers", "1,4,1", "--activation", "tanh", "--loss", "mse", "--epochs", "7", "--batch", "16", "--validation", "0.2", "--log-every", "3"];

        var run = Run(args);
        using var json = JsonDocument.Parse(Run([.. args, "--json"]).Stdout);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.Split('\n').Where(l => l.StartsWith("Epoch ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["Epoch 3/7", "Epoch 6/7", "Epoch 7/7"], lines.Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
        // The JSON keeps every epoch; the lines print the same numbers.
        var epochs = json.RootElement.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal(7, epochs.Count);
        var sixth = epochs[5];
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"Epoch 6/7: train loss {sixth.GetProperty("trainLoss").GetDouble():F4} | validation loss {sixth.GetProperty("validationLoss").GetDouble():F4}, RMSE {sixth.GetProperty("validationRmse").GetDouble():F4}"), lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Log_every_prints_the_lessons_loss_every_n_steps_and_its_last_step()
    {
        var run = Run("train", "--log-every", "100");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.Split('\n').Where(l => l.StartsWith("Step ", StringComparison.Ordinal)).ToList();
        Assert.Equal([.. Enumerable.Range(1, 4).Select(k => $"Step {100 * k}:"), "Step 472:"], lines.Select(l => l[..(l.IndexOf(':', StringComparison.Ordinal) + 1)]));
        Assert.Equal("Step 472: SSR 0.000648992", lines[^1]);
        // Without it the lesson prints no step lines; the result is the same.
        var plain = Run("train");
        Assert.DoesNotContain("Step 100:", plain.Stdout, StringComparison.Ordinal);
        Assert.EndsWith(plain.Stdout[plain.Stdout.IndexOf("Starting SSR", StringComparison.Ordinal)..], run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Quiet_prints_no_epoch_lines_but_still_writes_the_log()
    {
        using var csv = new TempCsv(NoisyClassesCsv());
        var log = Path.Combine(Path.GetDirectoryName(csv.Path)!, "run.csv");

        var run = Run("train", "--data", csv.Path, "--layers", "2,8,3", "--epochs", "4", "--batch", "50", "--quiet", "--log", log, "--log-every", "2");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.DoesNotContain("Epoch ", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(log).Length);
    }

    [Theory]
    [InlineData("--log-every", "0", "--log-every must be a positive number of epochs; got 0.")]
    [InlineData("--log-every", "x", "--log-every takes a whole number; got 'x'. (see 'backprop train --help')")]
    public void Bad_log_every_values_are_refused(string option, string value, string message)
        => Assert.Equal($"backprop: {message}", AssertBadInput(Run("train", option, value)));

    [Fact]
    public void A_log_on_another_output_or_an_input_is_refused_before_training_and_nothing_is_written()
    {
        using var csv = new TempCsv(CurveCsv());
        var folder = Path.GetDirectoryName(csv.Path)!;
        var model = Path.Combine(folder, "m.bpm");
        File.WriteAllText(model, "mine");

        Assert.Equal($"backprop: --log {model} is the same file as --out {model}: each output needs a file of its own.", AssertBadInput(Run("train", "--log", model, "--out", model)));
        Assert.Equal($"backprop: --log {csv.Path} is the same file as --data {csv.Path}: an output must not replace an input.", AssertBadInput(Run("train", "--data", csv.Path, "--log", csv.Path)));
        Assert.Equal($"backprop: --log needs a file name, but '{folder}' is a folder.", AssertBadInput(Run("train", "--log", folder)));
        Assert.Equal($"backprop: --log cannot write '{folder}/no/run.csv': the folder '{folder}/no' does not exist.", AssertBadInput(Run("train", "--log", Path.Combine(folder, "no", "run.csv"))));
        Assert.Equal("mine", File.ReadAllText(model));
    }

    [Fact]
    public void A_log_into_a_device_is_written_into_it()
    {
        var run = Run("train", "--max-steps", "3", "--log", "/dev/null");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Log: /dev/null (3 epochs)", run.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists("/dev/null"));
    }
}
