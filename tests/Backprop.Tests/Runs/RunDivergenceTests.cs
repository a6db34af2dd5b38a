using Backprop.Data;
using Backprop.Nn;
using Backprop.Runs;
using Backprop.Training;

namespace Backprop.Tests.Runs;

/// <summary>A run that diverges says so (<see cref="RunResult.Diverged"/>): NaN or ∞, or a loss grown by orders of magnitude.</summary>
public sealed class RunDivergenceTests
{
    private static RunSpec Lesson(IReadOnlyList<string>? only = null, double rate = 0.1) => new()
    {
        Data = new RunData(Datasets.Dosage),
        Network = new NetworkRecipe([1, 2, 1], Activation.SoftPlus) { Only = only },
        LearningRate = rate,
    };

    [Fact]
    public void A_loss_that_grows_a_million_fold_is_divergence_though_every_number_stays_finite()
    {
        // Training w3 and w4 alone from the lesson's values runs away (the issue's SSR of 1e195).
        var result = new TrainingRun(Lesson(["w3", "w4"])).Run();

        Assert.Equal(StopReason.MaxSteps, result.Result.StopReason);
        Assert.True(double.IsFinite(result.Result.FinalLoss));
        Assert.True(result.Diverged);
        Assert.Matches(@"^the loss grew from 1\.89588 to \S+ \(more than 1E\+06 times\) by step \d+ \(try a smaller learning rate\)$", result.DivergenceMessage);
        var step = int.Parse(System.Text.RegularExpressions.Regex.Match(result.DivergenceMessage!, @"by step (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        // The first step past the limit: entry k of the loss history is step k + 1's loss (every step of a run this short).
        var losses = result.Result.LossHistory.ToArray();
        Assert.True(losses[step - 1] > 1e6 * result.Result.InitialLoss);
        Assert.True(losses[step - 2] <= 1e6 * result.Result.InitialLoss);
    }

    [Fact]
    public void A_nan_or_infinite_loss_is_divergence_and_its_message_is_the_stop_message()
    {
        var result = new TrainingRun(Lesson(rate: 10)).Run();

        Assert.Equal(StopReason.Diverged, result.Result.StopReason);
        Assert.True(result.Diverged);
        Assert.Equal(result.Result.StopMessage, result.DivergenceMessage);
    }

    [Fact]
    public void Without_a_factor_only_nan_and_infinity_count_and_the_lessons_run_does_not_diverge()
    {
        Assert.False(new TrainingRun(Lesson(["w3", "w4"]) with { DivergenceFactor = null }).Run().Diverged);
        var lesson = new TrainingRun(Lesson()).Run();
        Assert.False(lesson.Diverged);
        Assert.Null(lesson.DivergenceMessage);
    }

    [Theory]
    [InlineData(1.0, "The divergence factor must be a finite number above 1; got 1.")]
    [InlineData(double.PositiveInfinity, "The divergence factor must be a finite number above 1; got Infinity.")]
    public void A_factor_that_is_not_above_1_is_refused(double factor, string message)
        => Assert.Equal(message, Assert.Throws<BackpropException>(() => new TrainingRun(Lesson() with { DivergenceFactor = factor })).Message);
}
