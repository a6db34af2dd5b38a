using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// <see cref="TrainingOptions.Epochs"/> means what it says: with it, the lesson's step limits (at
/// most 1000 steps, stop when every step is below 0.001) apply only when given.
/// </summary>
public sealed class TrainingOptionsTests
{
    private static TrainingResult TrainLesson(TrainingOptions options)
    {
        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), Lesson.LearningRate));
        return trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), options);
    }

    [Fact]
    public void Epochs_2000_trains_2000_epochs()
    {
        // The lesson stops on the step-size rule long before 1000 steps... where that rule applies.
        var lesson = TrainLesson(new TrainingOptions());
        Assert.Equal(StopReason.StepSizeBelowThreshold, lesson.StopReason);

        var result = TrainLesson(new TrainingOptions { Epochs = 2000 });

        Assert.Equal(StopReason.Epochs, result.StopReason);
        Assert.Equal(2000, result.Steps);
        Assert.Equal("finished 2000 epochs", result.StopMessage);
        Assert.True(result.FinalLoss < lesson.FinalLoss);
    }

    [Fact]
    public void Epochs_past_the_lessons_1000_steps_are_all_trained()
    {
        // Three rows in batches of one: 3 steps an epoch, 1,200 steps in all.
        var result = TrainLesson(new TrainingOptions { Epochs = 400, BatchSize = 1 });

        Assert.Equal(StopReason.Epochs, result.StopReason);
        Assert.Equal(1200, result.Steps);
    }

    [Fact]
    public void Step_limits_given_with_epochs_still_apply()
    {
        Assert.Equal(StopReason.StepSizeBelowThreshold, TrainLesson(new TrainingOptions { Epochs = 2000, MinStepSize = 0.001 }).StopReason);
        var capped = TrainLesson(new TrainingOptions { Epochs = 200, MaxSteps = 50 });
        Assert.Equal(StopReason.MaxSteps, capped.StopReason);
        Assert.Equal(50, capped.Steps);
    }

    [Fact]
    public void The_defaults_are_the_lessons_without_epochs_and_none_with_them()
    {
        var lesson = new TrainingOptions();
        Assert.Equal(1000, lesson.MaxSteps);
        Assert.Equal(0.001, lesson.MinStepSize);
        var epochs = new TrainingOptions { Epochs = 5 };
        Assert.Equal(int.MaxValue, epochs.MaxSteps);
        Assert.Null(epochs.MinStepSize);
        Assert.Null((lesson with { MinStepSize = null }).MinStepSize);
        Assert.Equal(0.001, (epochs with { MinStepSize = 0.001 }).MinStepSize);
        // `with` keeps what was given: the lesson's explicit values stay when epochs are added.
        var given = new TrainingOptions { MaxSteps = 1000, MinStepSize = 0.001 } with { Epochs = 5 };
        Assert.Equal(1000, given.MaxSteps);
        Assert.Equal(0.001, given.MinStepSize);
    }
}
