using System.Text.Json;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Runs;
using static Backprop.Tests.Cli.CliHarness;
using static Backprop.Tests.Cli.TuningOptionsTests;

namespace Backprop.Tests.Cli;

/// <summary><c>--test FILE</c>: a CSV file of test rows scored at the end, for regression and classification.</summary>
public sealed class TestRowsTests
{
    [Fact]
    public void A_regressions_test_rows_are_scored_as_the_library_scores_them()
    {
        using var train = new TempCsv(CurveCsv(40, 1));
        using var test = new TempCsv(CurveCsv(15, 2), "test.csv");

        var run = Run("train", "--data", train.Path, "--test", test.Path, "--loss", "mse", "--json");
        var text = Run("train", "--data", train.Path, "--test", test.Path, "--loss", "mse");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var spec = new RunSpec { Data = new RunData(CsvDataset.Load(train.Path), Test: CsvDataset.Load(test.Path)), Network = new NetworkRecipe([1, 2, 1], Activation.SoftPlus), Loss = new MeanSquaredError() };
        var expected = new TrainingRun(spec).Run().Test!.Value.Regression!.Value;
        using var json = JsonDocument.Parse(run.Stdout);
        var scored = json.RootElement.GetProperty("metrics").GetProperty("test");
        Assert.Equal(15, scored.GetProperty("rows").GetInt32());
        AssertBits(expected.Mse, scored.GetProperty("mse").GetDouble());
        AssertBits(expected.Rmse, scored.GetProperty("rmse").GetDouble());
        AssertBits(expected.Mae, scored.GetProperty("mae").GetDouble());
        AssertBits(expected.RSquared, scored.GetProperty("r2").GetDouble());
        Assert.Contains("40 training rows, 15 test rows", text.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"On the test rows \(15\): MSE \S+, RMSE \S+, MAE \S+, R² \S+", text.Stdout);
    }

    [Fact]
    public void A_classifiers_test_rows_keep_the_training_classes_even_when_some_are_missing()
    {
        using var train = new TempCsv(NoisyClassesCsv());
        // Only classes c and a, c first: they must still be classes 2 and 0.
        using var test = new TempCsv("x1,x2,kind\n0.5,-0.5,c\n-0.5,-0.5,a\n0.6,-0.2,c\n", "test.csv");

        var run = Run("train", "--data", train.Path, "--test", test.Path, "--layers", "2,8,3", "--epochs", "30", "--optimizer", "adam", "--lr", "0.05", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(["a", "b", "c"], root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("test", root.GetProperty("confusionMatrixOf").GetString());
        var matrix = root.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).Sum()).ToList();
        Assert.Equal([1, 0, 2], matrix);
        Assert.Equal(3, root.GetProperty("predictions").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("testAccuracy").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("testLoss").ValueKind);
    }

    [Fact]
    public void Test_rows_with_an_unknown_class_or_other_columns_are_refused()
    {
        using var train = new TempCsv(NoisyClassesCsv());
        using var unknown = new TempCsv("x1,x2,kind\n0,0,a\n1,1,d\n", "unknown.csv");
        using var wide = new TempCsv("x1,x2,x3,kind\n0,0,0,a\n1,1,1,b\n", "wide.csv");
        using var values = new TempCsv("x1,x2,kind\n0,0,a\n1,1,b\n", "values.csv");
        using var regression = new TempCsv(CurveCsv());

        Assert.Equal("backprop: unknown.csv: the class 'd' is not one of the training data's classes (a, b, c).", AssertBadInput(Run("train", "--data", train.Path, "--layers", "2,4,3", "--test", unknown.Path)));
        Assert.Equal("backprop: The test data (wide.csv) has 3 inputs and 1 target (class labels), but the training data (data.csv) has 2 and 1 (class labels).", AssertBadInput(Run("train", "--data", train.Path, "--layers", "2,4,3", "--test", wide.Path)));
        Assert.Equal($"backprop: {values.Path}:2:3: 'a' is not a number.", AssertBadInput(Run("train", "--data", regression.Path, "--test", values.Path)));
    }

    [Fact]
    public void Test_is_for_csv_data_and_needs_a_readable_file()
    {
        Assert.Equal("backprop: --test is for CSV data: fashion-mnist brings its own 10,000 test images.", AssertBadInput(Run("train", "--dataset", "fashion-mnist", "--test", "x.csv")));
        Assert.StartsWith("backprop: ", AssertBadInput(Run("train", "--test", "/nonexistent/test.csv")), StringComparison.Ordinal);
        Assert.Equal("backprop: --test needs a file name. (see 'backprop train --help')", AssertBadInput(Run("train", "--test", "")));
    }

    [Fact]
    public void Test_rows_can_be_what_patience_watches()
    {
        using var train = new TempCsv(CurveCsv(60, 4));
        using var test = new TempCsv(CurveCsv(20, 9), "test.csv");

        var run = Run("train", "--data", train.Path, "--test", test.Path, "--layers", "1,16,1", "--activation", "relu", "--loss", "mse", "--optimizer", "adam", "--lr", "0.05", "--epochs", "400", "--batch", "8", "--patience", "5");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("or early when the test loss has not improved for 5 epochs", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("stopped early: the test loss did not improve for 5 epochs", run.Stdout, StringComparison.Ordinal);
    }
}
