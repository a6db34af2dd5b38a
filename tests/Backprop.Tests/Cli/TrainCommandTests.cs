using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>The default run (<c>backprop</c>, <c>backprop train</c>) as text and as JSON.</summary>
public sealed class TrainCommandTests
{
    // The lesson's run through the library, as the brief spells it out.
    private static (Sequential<double> Network, TrainingResult Result, double[] Predictions) LessonRun()
    {
        var network = Lesson.CreateNetwork<double>();
        var (result, predictions) = Fit(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1), new TrainingOptions());
        return (network, result, predictions);
    }

    [Fact]
    public void No_arguments_and_train_alone_give_the_same_text()
    {
        var bare = Run();
        var train = Run("train");

        Assert.Equal(0, bare.ExitCode);
        Assert.Equal(0, train.ExitCode);
        Assert.Equal("", bare.Stderr);
        Assert.Equal("", train.Stderr);
        Assert.NotEqual("", bare.Stdout);
        Assert.Equal(bare.Stdout, train.Stdout);
    }

    [Fact]
    public void No_arguments_and_train_alone_give_the_same_json()
    {
        Assert.Equal(RunJson().Text, RunJson("train").Text);
    }

    [Fact]
    public void Default_text_reports_starting_loss_steps_stop_reason_and_final_loss()
    {
        var (_, result, _) = LessonRun();
        var run = Run();

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Equal(StopReason.StepSizeBelowThreshold, result.StopReason);
        Assert.InRange(result.Steps, 2, 999);
        Assert.Contains($"Starting SSR: {F(result.InitialLoss)}", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Stopped after {result.Steps} steps: every step size is below 0.001", run.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"Final SSR:\s+{F(result.FinalLoss)}", run.Stdout);
        // The settings are the lesson's.
        Assert.Contains("learning rate 0.1", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("after 1000 steps", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_text_has_a_parameter_table_with_all_seven_from_start_to_final()
    {
        var (network, _, _) = LessonRun();
        var start = LessonStart();
        var rows = TableRows(Run().Stdout);

        Assert.Contains(rows, r => r.SequenceEqual(["Parameter", "Start", "Final", "Trained"]));
        var parameterRows = rows.Where(r => r.Length == 4 && LessonNames.Contains(r[0])).ToList();
        Assert.Equal(LessonNames, parameterRows.Select(r => r[0]));
        foreach (var row in parameterRows)
        {
            Assert.Equal([row[0], F(start[row[0]]), F(network.Element(row[0]).Value), "yes"], row);
        }
    }

    [Fact]
    public void Default_text_shows_each_prediction_beside_its_observed_value()
    {
        var (_, _, predictions) = LessonRun();
        var text = Run().Stdout;
        var rows = TableRows(text);

        Assert.Contains(rows, r => r.SequenceEqual(["Dosage", "Efficacy (observed)", "Predicted"]));
        var data = Datasets.Dosage;
        for (var i = 0; i < data.Count; i++)
        {
            string[] expected = [F(data.Inputs[i]), F(data.Targets[i]), F(predictions[i])];
            Assert.Contains(rows, r => r.SequenceEqual(expected));
        }
        // The fit is good: each prediction is near its observed value.
        for (var i = 0; i < data.Count; i++)
        {
            Assert.InRange(predictions[i], data.Targets[i] - 0.05, data.Targets[i] + 0.05);
        }
    }

    [Fact]
    public void Json_is_one_object_with_the_documented_keys_and_types()
    {
        var run = Run("--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.StartsWith("{", run.Stdout, StringComparison.Ordinal);
        var report = ParseReport(run.Stdout);
        Assert.Equal(LessonNames, report.Names);
        Assert.Equal(3, report.Predictions.Count);
        Assert.Equal("stepSizeBelowThreshold", report.StopReason);
    }

    [Fact]
    public void Json_agrees_with_the_library_bit_for_bit()
    {
        var (network, result, predictions) = LessonRun();

        AssertSameAsLibrary(RunJson(), network, result, predictions);
    }

    [Fact]
    public void Json_initial_loss_is_the_lessons_ssr_at_the_starting_values()
    {
        var expected = Ssr(LessonStart(), SoftPlus);

        Assert.Equal(1.8958781559, expected, 1e-9);
        Assert.Equal(expected, RunJson().InitialLoss, 1e-12);
    }

    [Fact]
    public void Json_final_loss_is_the_ssr_of_the_reported_parameters_and_predictions()
    {
        var report = RunJson();
        var final = report.Parameters.ToDictionary(p => p.Key, p => p.Value);

        Assert.Equal(Ssr(final, SoftPlus), report.Loss, 1e-12);
        double[] observed = [0, 1, 0];
        Assert.Equal(report.Loss, report.Predictions.Select((p, i) => (observed[i] - p) * (observed[i] - p)).Sum(), 1e-12);
        Assert.True(report.Loss < report.InitialLoss / 100, $"loss {report.Loss} vs initial {report.InitialLoss}");
    }
}
