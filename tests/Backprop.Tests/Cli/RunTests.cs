using System.Globalization;
using System.Text.Json;
using Backprop.Tests.Serialization;
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
            Assert.Matches($@"\nEpoch {epoch}/3: train loss [0-9.]+ \| validation loss [0-9.]+ \| [0-9.]+ s\r?\n", run.Stdout);
        }
        Assert.Contains("Stopped after 9 steps: finished 3 epochs", run.Stdout, StringComparison.Ordinal);
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
}
