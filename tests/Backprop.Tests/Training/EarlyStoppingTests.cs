using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Early stopping with Keras's semantics, driven by a scripted metric so that every rule is visible:
/// patience, min_delta, mode, restore_best_weights, never at the first epoch.
/// </summary>
public sealed class EarlyStoppingTests
{
    private static (TrainingResult Result, Trainer<double> Trainer, List<double[]> Weights) Run(EarlyStopping<double> stopper, int epochs = 20)
    {
        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        var weights = new WeightLog();
        var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { Epochs = epochs }, [weights, stopper]);
        return (result, trainer, weights.Weights);
    }

    private sealed class WeightLog : TrainingMonitor<double>
    {
        public List<double[]> Weights { get; } = [];

        public override void OnEpochEnd(Trainer<double> trainer, int epoch)
            => Weights.Add([.. trainer.Model.Parameters().SelectMany(p => p.Data.ToArray())]);
    }

    private static Func<Trainer<double>, double> Script(params double[] values) => t => values[t.Epoch - 1];

    private static double[] Values(Trainer<double> trainer) => [.. trainer.Model.Parameters().SelectMany(p => p.Data.ToArray())];

    [Fact]
    public void Training_stops_after_patience_epochs_without_improvement()
    {
        var stopper = new EarlyStopping<double>(Script(5, 4, 3, 3.5, 3.2, 3.1, 1, 1, 1), patience: 3);
        var (result, trainer, weights) = Run(stopper);
        Assert.Equal(StopReason.Stopped, result.StopReason);
        Assert.Equal(6, result.Steps);
        Assert.Equal(6, stopper.StoppedEpoch);
        Assert.Equal(3, stopper.BestEpoch);
        Assert.Equal(3, stopper.Best);
        Assert.Equal("stopped early: the validation loss did not improve for 3 epochs; the best was 3 at epoch 3", result.StopMessage);
        // Without restore_best_weights the last weights stay.
        Assert.Equal(weights[^1], Values(trainer));
    }

    [Fact]
    public void The_best_epochs_weights_are_restored_when_it_stops()
    {
        var stopper = new EarlyStopping<double>(Script(5, 4, 3, 3.5, 3.2, 3.1), patience: 2, restoreBestWeights: true);
        var (result, trainer, weights) = Run(stopper);
        Assert.Equal(5, stopper.StoppedEpoch);
        Assert.Equal(weights[2], Values(trainer));
        Assert.NotEqual(weights[4], Values(trainer));
        Assert.EndsWith("at epoch 3, whose weights were restored", result.StopMessage, StringComparison.Ordinal);
        Assert.Equal(trainer.Evaluate(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>()), result.FinalLoss);
    }

    [Fact]
    public void An_improvement_smaller_than_min_delta_does_not_count()
    {
        var stopper = new EarlyStopping<double>(Script(5, 4.95, 4.9, 4.85, 1), patience: 2, minDelta: 0.1);
        var (result, _, _) = Run(stopper);
        Assert.Equal(3, stopper.StoppedEpoch);
        Assert.Equal(1, stopper.BestEpoch);
        Assert.Contains("did not improve by more than 0.1 for 2 epochs", result.StopMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_metric_to_maximise_improves_upwards_and_patience_0_stops_at_the_first_miss()
    {
        var stopper = new EarlyStopping<double>(Script(0.5, 0.6, 0.7, 0.65), goal: MetricGoal.Maximize, metricName: "validation accuracy");
        var (result, _, _) = Run(stopper);
        Assert.Equal(4, stopper.StoppedEpoch);
        Assert.Equal(0.7, stopper.Best);
        Assert.StartsWith("stopped early: the validation accuracy did not improve for 1 epoch;", result.StopMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void It_never_stops_at_the_first_epoch_and_NaN_is_never_best()
    {
        var stopper = new EarlyStopping<double>(Script(double.NaN, 2, double.NaN, 3), patience: 0);
        var (_, _, _) = Run(stopper);
        Assert.Equal(3, stopper.StoppedEpoch);
        Assert.Equal(2, stopper.BestEpoch);
    }

    [Fact]
    public void A_run_that_ends_for_another_reason_keeps_its_last_weights()
    {
        var stopper = new EarlyStopping<double>(Script(5, 4, 4.5, 4.6), patience: 5, restoreBestWeights: true);
        var (result, trainer, weights) = Run(stopper, epochs: 4);
        Assert.Equal(StopReason.Epochs, result.StopReason);
        Assert.Equal(0, stopper.StoppedEpoch);
        Assert.Equal(weights[^1], Values(trainer));
    }

    [Fact]
    public void On_loss_watches_the_loss_on_held_out_rows()
    {
        var x = Datasets.Dosage.InputTensor<double>();
        var y = Datasets.Dosage.TargetTensor<double>();
        var stopper = EarlyStopping<double>.OnLoss(x, y, patience: 5);
        var (_, trainer, _) = Run(stopper, epochs: 3);
        Assert.Equal(3, stopper.History.Count);
        Assert.Equal(trainer.Evaluate(x, y), stopper.History[^1], 1e-12);
    }

    [Fact]
    public void Bad_settings_are_refused()
    {
        Assert.Equal("patience", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping<double>(_ => 0, patience: -1)).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping<double>(_ => 0, minDelta: double.NaN));
        Assert.StartsWith("The smallest improvement must be a finite number ≥ 0.", e.Message, StringComparison.Ordinal);
    }
}
