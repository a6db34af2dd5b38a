using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>A schedule applied during training, per epoch or per step, and continued by a resumed run.</summary>
public sealed class LearningRateSchedulerTests
{
    private sealed class RateLog : TrainingMonitor<double>
    {
        public List<double> Rates { get; } = [];

        public override void OnGradients(Trainer<double> trainer, int step, double loss, Backprop.Autograd.Graph<double> graph)
            => Rates.Add(trainer.Optimizer.LearningRate);
    }

    // Takes the state at the end of a step, as a checkpoint does.
    private sealed class CaptureAt(int step) : TrainingMonitor<double>
    {
        public TrainingState<double>? State { get; private set; }

        public override void OnStepEnd(Trainer<double> trainer, int at)
        {
            if (at == step)
            {
                State = trainer.CaptureState();
            }
        }
    }

    // A schedule of one's own: the rate after step k is 0.1 / (1 + k), set straight on the optimizer;
    // each step's values before and after, its gradients and the rate it ran at are kept.
    private sealed class InverseTime : TrainingMonitor<double>
    {
        private double[] before = [];
        private double[] gradients = [];

        public List<(double Rate, double[] Before, double[] Gradients, double[] After)> Steps { get; } = [];

        public override void OnGradients(Trainer<double> trainer, int step, double loss, Backprop.Autograd.Graph<double> graph)
        {
            before = [.. trainer.Model.Elements().Select(e => e.Value)];
            gradients = [.. trainer.Model.Elements().Select(e => e.Gradient)];
        }

        public override void OnStep(Trainer<double> trainer, in StepInfo info)
        {
            Steps.Add((trainer.Optimizer.LearningRate, before, gradients, [.. trainer.Model.Elements().Select(e => e.Value)]));
            trainer.Optimizer.LearningRate = 0.1 / (1 + info.Step);
        }
    }

    [Fact]
    public void A_monitor_of_ones_own_sets_the_rate_that_the_next_step_uses()
    {
        var monitor = new InverseTime();

        LessonTrainer().Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 5, MinStepSize = null }, [monitor]);

        Assert.Equal([0.1, 0.05, 0.1 / 3, 0.025, 0.02], monitor.Steps.Select(s => s.Rate));
        foreach (var (rate, before, gradients, after) in monitor.Steps)
        {
            // Gradient descent at the rate the monitor set: every number moves by rate × its gradient.
            for (var i = 0; i < before.Length; i++)
            {
                Assert.Equal(before[i] - (rate * gradients[i]), after[i], 15);
            }
        }
    }

    private static Trainer<double> LessonTrainer()
    {
        var network = Lesson.CreateNetwork<double>();
        return new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
    }

    [Fact]
    public void Each_epoch_trains_at_the_schedules_rate_for_it()
    {
        var log = new RateLog();
        // Three rows in batches of two: two steps an epoch.
        LessonTrainer().Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(),
            new TrainingOptions { Epochs = 3, BatchSize = 2 }, [new LearningRateScheduler<double>(LearningRateSchedule.Step(1, 0.5)), log]);
        Assert.Equal([0.1, 0.1, 0.05, 0.05, 0.025, 0.025], log.Rates);
    }

    [Fact]
    public void Each_step_trains_at_the_schedules_rate_for_it()
    {
        var log = new RateLog();
        LessonTrainer().Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(),
            new TrainingOptions { Epochs = 2, BatchSize = 2 }, [new LearningRateScheduler<double>(LearningRateSchedule.LinearWarmup(2, 0.5), ScheduleUnit.Step), log]);
        Assert.Equal([0.05, 0.075, 0.1, 0.1], log.Rates, (a, b) => Math.Abs(a - b) <= 1e-16);
    }

    [Fact]
    public void A_resumed_run_continues_the_schedule_and_ends_with_the_same_bits()
    {
        var x = Datasets.Dosage.InputTensor<double>();
        var y = Datasets.Dosage.TargetTensor<double>();
        var options = new TrainingOptions { Epochs = 6, BatchSize = 2 };
        LearningRateScheduler<double> Scheduler() => new(LearningRateSchedule.Exponential(0.8));

        var whole = LessonTrainer();
        whole.Fit(x, y, options, [Scheduler()]);

        var first = LessonTrainer();
        var capture = new CaptureAt(6);
        first.Fit(x, y, options, [Scheduler(), capture]);
        var state = capture.State!;
        var resumed = LessonTrainer();
        var log = new RateLog();
        resumed.Fit(x, y, options, [Scheduler(), log], state);

        Assert.Equal(0.1 * Math.Pow(0.8, 3), log.Rates[0], 1e-17);
        Assert.Equal(whole.Model.Parameters().SelectMany(p => p.Data.ToArray()), resumed.Model.Parameters().SelectMany(p => p.Data.ToArray()));
    }
}
