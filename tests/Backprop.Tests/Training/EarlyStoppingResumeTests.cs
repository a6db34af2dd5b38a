using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Early stopping's best value, wait and best weights travel in the trainer's state (and checkpoints):
/// a run with patience that is interrupted and resumed stops at the same epoch with the same weights.
/// </summary>
public sealed class EarlyStoppingResumeTests
{
    // 60 seeded rows of a noisy product, 48 to train on and 12 held out: small enough to overfit quickly.
    private static (Tensor<double> X, Tensor<double> Y, Tensor<double> VX, Tensor<double> VY) Data()
    {
        var rng = new Rng(5);
        var x = new Tensor<double>(new Shape(48, 2));
        var y = new Tensor<double>(new Shape(48, 1));
        var vx = new Tensor<double>(new Shape(12, 2));
        var vy = new Tensor<double>(new Shape(12, 1));
        for (var r = 0; r < 60; r++)
        {
            var (a, b) = (rng.NextUniform(-1, 1), rng.NextUniform(-1, 1));
            var target = a * b + 0.3 * rng.NextUniform(-1, 1);
            var (xs, ys, row) = r < 48 ? (x, y, r) : (vx, vy, r - 48);
            xs[row, 0] = a;
            xs[row, 1] = b;
            ys[row, 0] = target;
        }
        return (x, y, vx, vy);
    }

    private static readonly TrainingOptions Options = new() { Epochs = 400, BatchSize = 7, ShuffleSeed = 2 };

    private static (Trainer<double> Trainer, EarlyStopping<double> Stopper) New(Tensor<double> vx, Tensor<double> vy)
    {
        var network = Sequential<double>.Mlp([2, 24, 1], Activation.Tanh, Activation.Identity);
        new XavierInitializer(seed: 3).Initialize(network);
        var trainer = new Trainer<double>(network, new MeanSquaredError(), new Adam<double>(network.Parameters(), 0.05));
        return (trainer, EarlyStopping<double>.OnLoss(vx, vy, patience: 4, restoreBestWeights: true));
    }

    private static long[] Bits(Module<double> network) => [.. network.Elements().Select(e => BitConverter.DoubleToInt64Bits(e.Value))];

    /// <summary>Interrupts the run at the end of one step, as Ctrl-C does.</summary>
    private sealed class InterruptAt(int step) : TrainingMonitor<double>
    {
        public override void OnStepEnd(Trainer<double> trainer, int at)
        {
            if (at == step)
            {
                trainer.RequestStop(StopReason.Interrupted, "interrupted");
            }
        }
    }

    [Fact]
    public void A_run_with_patience_resumed_from_a_checkpoint_stops_at_the_same_epoch_with_the_same_weights()
    {
        var (x, y, vx, vy) = Data();
        var (straight, stopper) = New(vx, vy);
        var result = straight.Fit(x, y, Options, [stopper]);
        Assert.Equal(StopReason.Stopped, result.StopReason);
        Assert.InRange(stopper.StoppedEpoch, 6, 300);
        var stepsPerEpoch = 7; // 48 rows in batches of 7: 6 of 7 and one of 6

        // Before the best epoch, between it and the stop, and in the epoch that stops.
        foreach (var at in new[] { 3, (stopper.BestEpoch - 1) * stepsPerEpoch + 2, (stopper.BestEpoch + 1) * stepsPerEpoch, result.Steps - 1 })
        {
            var (first, firstStopper) = New(vx, vy);
            var part = first.Fit(x, y, Options, [firstStopper, new InterruptAt(at)]);
            Assert.Equal(StopReason.Interrupted, part.StopReason);
            // Through the checkpoint file's bytes, as a resumed command reads it.
            var saved = CheckpointFile.ToBytes(new Checkpoint<double>(first.CaptureState(), [], null));
            var state = ((Checkpoint<double>)CheckpointFile.FromBytes(saved, "run.ckpt")).State;

            var (resumed, resumedStopper) = New(vx, vy);
            var end = resumed.Fit(x, y, Options, [resumedStopper], state);

            Assert.Equal(result.StopMessage, end.StopMessage);
            Assert.Equal((result.Steps, stopper.StoppedEpoch, stopper.BestEpoch), (end.Steps, resumedStopper.StoppedEpoch, resumedStopper.BestEpoch));
            Assert.Equal(BitConverter.DoubleToInt64Bits(stopper.Best), BitConverter.DoubleToInt64Bits(resumedStopper.Best));
            Assert.Equal(Bits(straight.Model), Bits(resumed.Model));
        }
    }

    [Fact]
    public void A_state_without_early_stopping_starts_it_afresh_and_a_state_of_another_network_is_refused()
    {
        var (x, y, vx, vy) = Data();
        var (first, firstStopper) = New(vx, vy);
        first.Fit(x, y, Options, [firstStopper, new InterruptAt(3 * 7)]);
        var state = first.CaptureState();
        Assert.Equal("earlyStopping", Assert.Single(state.Monitors).Key);

        // Resumed without the monitor's state: it starts counting again from this epoch.
        var (fresh, freshStopper) = New(vx, vy);
        fresh.Fit(x, y, Options with { Epochs = 4 }, [freshStopper], state with { Monitors = [] });
        Assert.Equal(4, freshStopper.BestEpoch);

        // Best weights of another shape.
        var saved = state.Monitors[0].Value;
        var wrong = saved with { Arrays = [.. saved.Arrays.Take(3)] };
        var (other, otherStopper) = New(vx, vy);
        var error = Assert.Throws<BackpropException>(() => other.Fit(x, y, Options, [otherStopper], state with { Monitors = [new("earlyStopping", wrong)] }));
        Assert.Equal("The saved early-stopping state holds 3 arrays of best weights; the network has 4 parameters.", error.Message);
    }
}
