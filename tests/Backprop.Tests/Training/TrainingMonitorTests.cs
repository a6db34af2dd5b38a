using Backprop.Autograd;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class TrainingMonitorTests
{
    private sealed class Recorder : TrainingMonitor<double>
    {
        public List<string> Calls { get; } = [];

        public int StopAtGradientsOfStep { get; init; } = -1;

        public override void OnStart(Trainer<double> trainer, double initialLoss) => Calls.Add("start");

        public override void OnGradients(Trainer<double> trainer, int step, double loss, Graph<double> graph)
        {
            Calls.Add($"gradients {step}");
            if (step == StopAtGradientsOfStep)
            {
                trainer.RequestStop(StopReason.Stopped, "stopped by the test");
            }
        }

        public override void OnStep(Trainer<double> trainer, in StepInfo info) => Calls.Add($"step {info.Step} epoch {info.Epoch}");

        public override void OnEpochEnd(Trainer<double> trainer, int epoch) => Calls.Add($"epoch {epoch}");

        public override void OnEnd(Trainer<double> trainer, TrainingResult result) => Calls.Add("end");
    }

    private static (Trainer<double> Trainer, Sequential<double> Network) LessonTrainer()
    {
        var network = Lesson.CreateNetwork<double>();
        return (new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1)), network);
    }

    [Fact]
    public void Monitors_are_called_in_order_and_every_full_batch_step_is_an_epoch()
    {
        var (trainer, _) = LessonTrainer();
        var recorder = new Recorder();
        trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 2 }, [recorder]);
        Assert.Equal(["start", "gradients 1", "step 1 epoch 1", "epoch 1", "gradients 2", "step 2 epoch 2", "epoch 2", "end"], recorder.Calls);
    }

    [Fact]
    public void A_stop_requested_after_the_backward_pass_skips_that_steps_update()
    {
        var (trainer, network) = LessonTrainer();
        var recorder = new Recorder { StopAtGradientsOfStep = 3 };
        var afterTwo = LessonTrainer();
        afterTwo.Trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 2 });

        var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions(), [recorder]);

        Assert.Equal(2, result.Steps);
        Assert.Equal(StopReason.Stopped, result.StopReason);
        Assert.Equal("stopped by the test", result.StopMessage);
        Assert.Equal(afterTwo.Network.Elements().Select(e => e.Value), network.Elements().Select(e => e.Value));
    }

    [Fact]
    public void Mini_batches_end_an_epoch_after_every_row_was_used_once_and_training_stops_after_the_requested_epochs()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new[] { i / 10.0 }).ToArray();
        var x = Tensor<double>.FromRows(rows);
        var y = Tensor<double>.FromRows([.. rows.Select(r => new[] { r[0] * 2 })]);
        var network = Sequential<double>.Mlp([1, 1], Activation.Identity);
        var trainer = new Trainer<double>(network, new MeanSquaredError(), new GradientDescent<double>(network.Parameters(), 0.1));
        var recorder = new Recorder();

        var result = trainer.Fit(x, y, new TrainingOptions { BatchSize = 4, Epochs = 2, MinStepSize = null }, [recorder]);

        Assert.Equal(StopReason.Epochs, result.StopReason);
        Assert.Equal(6, result.Steps); // batches of 4, 4 and 2 rows, twice
        Assert.Equal(["epoch 1", "epoch 2"], recorder.Calls.Where(c => c.StartsWith("epoch", StringComparison.Ordinal)));
        Assert.Contains("step 4 epoch 2", recorder.Calls);
    }

    [Fact]
    public void The_epoch_history_of_a_long_run_is_bounded_thinned_and_ends_at_the_last_epoch()
    {
        // Full batch: one epoch per step, so 10,000 steps make 10,000 epochs, more than MaxKept.
        var network = Lesson.CreateNetwork<double>();
        var history = new EpochHistoryMonitor<double>();
        var seen = 0;
        history.EpochCompleted += _ => seen++;
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));

        trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 10_000, MinStepSize = null }, [history]);

        Assert.Equal(10_000, seen);
        var kept = history.History;
        Assert.InRange(kept.Count, EpochHistoryMonitor<double>.MaxKept / 2, EpochHistoryMonitor<double>.MaxKept + 1);
        Assert.Equal(1, kept[0].Epoch);
        Assert.Equal(10_000, kept[^1].Epoch);
        Assert.All(kept.SkipLast(1), r => Assert.Equal(0, (r.Epoch - 1) % 4));
        Assert.Equal(kept.Count - 1, kept.SkipLast(1).Select(r => r.Epoch).Distinct().Count());
    }
}
