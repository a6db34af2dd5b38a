using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>A run stopped part-way and resumed from its captured state ends with the same bits as a run never stopped.</summary>
public sealed class TrainerResumeTests
{
    // Three interleaved spirals' worth of classes from seeded noise: 50 rows, 2 inputs, 3 classes.
    private static (Tensor<double> X, Tensor<double> Y) Classes()
    {
        var rng = new Rng(11);
        var x = new Tensor<double>(new Shape(50, 2));
        var y = new Tensor<double>(new Shape(50));
        for (var r = 0; r < 50; r++)
        {
            x[r, 0] = rng.NextUniform(-1, 1);
            x[r, 1] = rng.NextUniform(-1, 1);
            y[r] = x[r, 0] * x[r, 1] > 0.1 ? 0 : x[r, 0] > 0 ? 1 : 2;
        }
        return (x, y);
    }

    private static Trainer<double> NewTrainer(string optimizer, Loss loss, int[] layers)
    {
        var network = Sequential<double>.Mlp(layers, Activation.Tanh, Activation.Identity);
        new XavierInitializer(seed: 3).Initialize(network);
        return new Trainer<double>(network, loss, Optimizer<double>.Create(optimizer, network.Parameters(), 0.01));
    }

    private static long[] Bits(Module<double> network) => [.. network.Elements().Select(e => BitConverter.DoubleToInt64Bits(e.Value))];

    /// <summary>Captures the trainer's state at the end of one step, as a periodic checkpoint does.</summary>
    private sealed class CaptureAt(int step) : TrainingMonitor<double>
    {
        public TrainingState<double>? State { get; private set; }

        public bool Stop { get; init; }

        public override void OnStepEnd(Trainer<double> trainer, int at)
        {
            if (at == step)
            {
                State = trainer.CaptureState();
                if (Stop)
                {
                    trainer.RequestStop(StopReason.Interrupted, "interrupted");
                }
            }
        }
    }

    [Theory]
    [InlineData("gd", 7, 33)]       // mini-batches of 7 rows: 8 per epoch, the last of 1 row
    [InlineData("momentum", 10, 40)] // the capture falls exactly at an epoch's end
    [InlineData("adam", 7, 61)]
    [InlineData("adam", 50, 17)]    // full batch
    public void Resuming_from_a_captured_state_gives_the_uninterrupted_runs_bits(string optimizer, int batch, int stopAt)
    {
        var (x, y) = Classes();
        var options = new TrainingOptions { MaxSteps = 150, MinStepSize = null, BatchSize = batch, ShuffleSeed = 9 };
        var straight = NewTrainer(optimizer, new CrossEntropy(), [2, 8, 3]);
        var expected = straight.Fit(x, y, options, []);

        var first = NewTrainer(optimizer, new CrossEntropy(), [2, 8, 3]);
        var capture = new CaptureAt(stopAt) { Stop = true };
        var interrupted = first.Fit(x, y, options, [capture]);
        Assert.Equal(StopReason.Interrupted, interrupted.StopReason);
        Assert.Equal(stopAt, interrupted.Steps);
        Assert.Equal(capture.State!.Steps, first.CaptureState().Steps);

        var second = NewTrainer(optimizer, new CrossEntropy(), [2, 8, 3]);
        var resumed = second.Fit(x, y, options, [], first.CaptureState());

        Assert.Equal(Bits(straight.Model), Bits(second.Model));
        Assert.Equal(expected.Steps, resumed.Steps);
        Assert.Equal(expected.StopReason, resumed.StopReason);
        Assert.Equal(expected.InitialLoss, resumed.InitialLoss);
        Assert.Equal(expected.LossHistory, resumed.LossHistory);
        Assert.Equal(expected.FinalLoss, resumed.FinalLoss);
    }

    [Fact]
    public void Epoch_counting_and_the_epochs_stop_survive_a_resume()
    {
        var (x, y) = Classes();
        var options = new TrainingOptions { MaxSteps = int.MaxValue, MinStepSize = null, BatchSize = 8, Epochs = 5, ShuffleSeed = 2 };
        var straight = NewTrainer("adam", new CrossEntropy(), [2, 4, 3]);
        var expected = straight.Fit(x, y, options, []);
        var first = NewTrainer("adam", new CrossEntropy(), [2, 4, 3]);
        first.Fit(x, y, options, [new CaptureAt(14) { Stop = true }]);
        var state = first.CaptureState();
        Assert.Equal(3, state.Epoch); // 7 batches per epoch: step 14 ends epoch 2
        Assert.Equal(50, state.BatchPosition);

        var second = NewTrainer("adam", new CrossEntropy(), [2, 4, 3]);
        var resumed = second.Fit(x, y, options, [], state);

        Assert.Equal(StopReason.Epochs, resumed.StopReason);
        Assert.Equal(expected.Steps, resumed.Steps);
        Assert.Equal(Bits(straight.Model), Bits(second.Model));
    }

    [Fact]
    public void An_interrupt_on_the_step_that_finishes_the_run_is_a_normal_finish()
    {
        var (x, y) = Classes();
        var trainer = NewTrainer("gd", new CrossEntropy(), [2, 4, 3]);

        var result = trainer.Fit(x, y, new TrainingOptions { MaxSteps = 20, MinStepSize = null }, [new CaptureAt(20) { Stop = true }]);

        Assert.Equal(StopReason.MaxSteps, result.StopReason);
    }

    [Fact]
    public void A_state_that_does_not_fit_the_network_is_refused_with_a_message()
    {
        var (x, y) = Classes();
        var small = NewTrainer("adam", new CrossEntropy(), [2, 4, 3]);
        small.Fit(x, y, new TrainingOptions { MaxSteps = 3 }, []);
        var large = NewTrainer("adam", new CrossEntropy(), [2, 8, 3]);

        var error = Assert.Throws<BackpropException>(() => large.Fit(x, y, new TrainingOptions { MaxSteps = 5 }, [], small.CaptureState()));

        Assert.Contains("parameter 1 is layer0.weight with 8 numbers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_with_another_optimizers_arrays_is_refused()
    {
        var (x, y) = Classes();
        var adam = NewTrainer("adam", new CrossEntropy(), [2, 4, 3]);
        adam.Fit(x, y, new TrainingOptions { MaxSteps = 3 }, []);
        var momentum = NewTrainer("momentum", new CrossEntropy(), [2, 4, 3]);

        var error = Assert.Throws<BackpropException>(() => momentum.Fit(x, y, new TrainingOptions { MaxSteps = 5 }, [], adam.CaptureState()));

        Assert.Equal("The optimizer state is adam's; this optimizer is momentum.", error.Message);
    }

    [Fact]
    public void Divergence_without_a_monitor_keeps_the_last_finite_parameters()
    {
        // The lesson's network with a learning rate so large that the parameters overflow.
        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 1e308));
        var x = Backprop.Data.Datasets.Dosage.InputTensor<double>();
        var y = Backprop.Data.Datasets.Dosage.TargetTensor<double>();

        var result = trainer.Fit(x, y, new TrainingOptions { MaxSteps = 100, MinStepSize = null });

        Assert.Equal(StopReason.Diverged, result.StopReason);
        Assert.All(network.Elements(), e => Assert.True(double.IsFinite(e.Value), $"{e.Name} = {e.Value}"));
        Assert.Matches("^the update of step 1 would make (w1|b1|w2|b2|w3|w4|b3) infinite \\(learning rate × derivative overflowed\\); training stopped before this update, keeping the last finite parameters", result.StopMessage);
        Assert.Equal([2.74, 0, -1.13, 0, 0.36, 0.63, 0], network.Elements().OrderBy(e => Array.IndexOf(Lesson.ParameterNames.ToArray(), e.Name)).Select(e => e.Value));
        Assert.Equal(0, result.Steps);
        Assert.True(double.IsFinite(trainer.Evaluate(x, y)));
    }
}
