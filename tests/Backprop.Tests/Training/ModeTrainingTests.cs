using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Tests.Nn;
using Backprop.Tests.Serialization;
using Backprop.Training;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Training;

/// <summary>
/// Trainer steps in training mode, evaluations in evaluation mode, and the recorded graphs agree with
/// the mode; networks with Dropout and BatchNorm train without allocating, resume bit for bit and
/// carry their running statistics and generators through checkpoints.
/// </summary>
public sealed class ModeTrainingTests
{
    private static (Tensor<double> X, Tensor<double> Y) Data(int rows = 40)
    {
        var rng = new Rng(17);
        var x = Uniform(rng, -1, 1, [rows, 3]);
        var y = new Tensor<double>(new Shape(rows));
        for (var r = 0; r < rows; r++)
        {
            y[r] = x[r, 0] + (0.5 * x[r, 1]) > 0 ? 1 : x[r, 2] > 0 ? 2 : 0;
        }
        return (x, y);
    }

    private static Sequential<T> Network<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var network = new Sequential<T>(
            new Dense<T>(3, 16), new BatchNorm1d<T>(16), new ActivationLayer<T>(Activation.Relu), new Dropout<T>(0.25, 5), new Dense<T>(16, 3));
        new HeInitializer(3).Initialize(network);
        return network;
    }

    private static Trainer<double> NewTrainer(Module<double>? network = null)
    {
        network ??= Network<double>();
        return new Trainer<double>(network, new CrossEntropy(), new Adam<double>(network.Parameters(), 0.01));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Steps_run_in_training_mode_evaluations_in_evaluation_mode_and_the_mode_is_given_back(bool startTraining)
    {
        var spy = new ModeTests.ModeSpy();
        var network = new Sequential<double>(new Dense<double>(2, 2), spy);
        network.Train(startTraining);
        var x = Uniform(new Rng(1), -1, 1, [6, 2]);
        var y = Uniform(new Rng(2), -1, 1, [6, 2]);

        new Trainer<double>(network, new MeanSquaredError(), new GradientDescent<double>(network.Parameters(), 0.1))
            .Fit(x, y, new TrainingOptions { MaxSteps = 5, MinStepSize = null, BatchSize = 4 });

        // The initial loss, then each batch size's graph recorded once (4 rows, 2 rows) and replayed, then the final loss.
        Assert.Equal([false, true, true, false], spy.Seen);
        Assert.Equal(startTraining, network.IsTraining);
        Assert.All(network.Children(), m => Assert.Equal(startTraining, m.IsTraining));
    }

    /// <summary>Leaves the network evaluating after each step, as a careless monitor might.</summary>
    private sealed class LeavesEvaluating : TrainingMonitor<double>
    {
        public override void OnStep(Trainer<double> trainer, in StepInfo info) => trainer.Model.Eval();
    }

    [Fact]
    public void A_monitor_that_leaves_the_network_evaluating_does_not_change_the_steps()
    {
        var (x, y) = Data();
        var options = new TrainingOptions { MaxSteps = 30, MinStepSize = null, BatchSize = 16, ShuffleSeed = 2 };
        var expected = NewTrainer().Fit(x, y, options, []);

        var result = NewTrainer().Fit(x, y, options, [new LeavesEvaluating()]);

        Assert.Equal(expected.LossHistory, result.LossHistory);
    }

    [Fact]
    public void The_evaluator_scores_in_evaluation_mode_with_the_running_statistics_of_the_moment()
    {
        var (x, y) = Data(300);
        var trainer = NewTrainer();
        var evaluator = trainer.Evaluator;
        var first = evaluator.Evaluate(x, y);
        Assert.Equal(first, evaluator.Evaluate(x, y)); // no dropout: the same every time
        Assert.True(trainer.Model.IsTraining);

        trainer.Fit(x, y, new TrainingOptions { MaxSteps = 20, MinStepSize = null, BatchSize = 32 });
        var replayed = evaluator.Evaluate(x, y);

        // The replayed chunk graphs read the new parameters and running statistics: a fresh evaluator agrees.
        Assert.NotEqual(first.Loss, replayed.Loss);
        Assert.Equal(new Evaluator<double>(trainer.Model, trainer.Loss).Evaluate(x, y), replayed);
        Assert.Equal(trainer.Model.Predict(x).ToDoubleArray(), Predictions(trainer.Model, x));
    }

    // The outputs of an evaluation-mode forward pass made by hand.
    private static double[] Predictions(Module<double> network, Tensor<double> x)
    {
        network.Eval();
        try
        {
            using var scope = Backprop.Autograd.GradMode.NoGrad();
            return network.Forward(x).ToDoubleArray();
        }
        finally
        {
            network.Train();
        }
    }

    [Fact]
    public void A_network_with_dropout_and_batch_norm_learns()
    {
        var (x, y) = Data(200);
        var trainer = NewTrainer();

        var result = trainer.Fit(x, y, new TrainingOptions { MaxSteps = 300, MinStepSize = null, BatchSize = 32, ShuffleSeed = 4 });

        Assert.True(result.FinalLoss < result.InitialLoss / 3, $"loss {result.InitialLoss} → {result.FinalLoss}");
        Assert.True(trainer.Evaluator.Evaluate(x, y).Accuracy > 0.9);
    }

    /// <summary>Captures the state at one step and stops there.</summary>
    private sealed class StopAt(int step) : TrainingMonitor<double>
    {
        public override void OnStepEnd(Trainer<double> trainer, int at)
        {
            if (at == step)
            {
                trainer.RequestStop(StopReason.Interrupted, "interrupted");
            }
        }
    }

    private static long[] Bits(Module<double> network)
        => [.. network.Parameters().Concat(network.Buffers()).SelectMany(p => p.ToDoubleArray()).Select(BitConverter.DoubleToInt64Bits)];

    [Theory]
    [InlineData(23)]
    [InlineData(40)]
    public void A_resumed_run_through_a_checkpoint_file_ends_with_the_uninterrupted_runs_bits(int stopAt)
    {
        var (x, y) = Data();
        var options = new TrainingOptions { MaxSteps = 80, MinStepSize = null, BatchSize = 12, ShuffleSeed = 6 };
        var straight = NewTrainer();
        var expected = straight.Fit(x, y, options, []);

        var first = NewTrainer();
        first.Fit(x, y, options, [new StopAt(stopAt)]);
        using var folder = new TempFolder();
        new Checkpoint<double>(first.CaptureState(), ["--test"], null).Save(folder.File("run.ckpt"));
        var state = Assert.IsType<Checkpoint<double>>(Checkpoint.Load(folder.File("run.ckpt"))).State;
        Assert.Equal(["layer1.runningMean", "layer1.runningVar"], state.Buffers.Select(b => b.Key));
        Assert.Equal(["layer3.generator"], state.Generators.Select(g => g.Key));

        var second = NewTrainer();
        var resumed = second.Fit(x, y, options, [], state);

        Assert.Equal(Bits(straight.Model), Bits(second.Model));
        Assert.Equal(expected.LossHistory, resumed.LossHistory);
    }

    [Fact]
    public void A_state_whose_buffers_or_generators_do_not_fit_the_network_is_refused()
    {
        var (x, y) = Data();
        var trainer = NewTrainer();
        trainer.Fit(x, y, new TrainingOptions { MaxSteps = 2, MinStepSize = null, BatchSize = 8 });
        var state = trainer.CaptureState();

        var plain = Sequential<double>.Mlp([3, 16, 16, 3], Activation.Relu);
        var other = new Trainer<double>(plain, new CrossEntropy(), new Adam<double>(plain.Parameters(), 0.01));
        var e = Assert.Throws<BackpropException>(() => other.Fit(x, y, null, [], state with { Parameters = [.. plain.Parameters().Select(p => new KeyValuePair<string, double[]>(p.Name!, new double[p.Length]))], Optimizer = other.Optimizer.GetState() }));
        Assert.Equal("The saved state has 2 buffers; the network has 0.", e.Message);

        e = Assert.Throws<BackpropException>(() => NewTrainer().Fit(x, y, null, [], state with { Generators = [new("layer9.generator", new Rng(1).State)] }));
        Assert.Equal("The saved state's random generators 1 is layer9.generator; the network's is layer3.generator.", e.Message);
    }
}

/// <summary>Training with Dropout and BatchNorm gives the same bits at any thread count.</summary>
[Collection(nameof(Optim.ThreadCountTests))]
public sealed class ModeTrainingThreadTests
{
    [Fact]
    public void A_float_run_with_dropout_and_batch_norm_is_the_same_on_1_and_2_threads()
    {
        float[] Run(int threads)
        {
            var saved = Parallelism.MaxDegreeOfParallelism;
            try
            {
                Parallelism.MaxDegreeOfParallelism = threads;
                var rng = new Rng(3);
                var x = new Tensor<float>(new Shape(256, 64));
                var y = new Tensor<float>(new Shape(256));
                for (var i = 0; i < x.Length; i++)
                {
                    x[i] = (float)rng.NextNormal();
                }
                for (var r = 0; r < 256; r++)
                {
                    y[r] = rng.NextInt(10);
                }
                var network = new Sequential<float>(
                    new Dense<float>(64, 512), new BatchNorm1d<float>(512), new ActivationLayer<float>(Activation.Relu), new Dropout<float>(0.5, 9), new Dense<float>(512, 10));
                new HeInitializer(1).Initialize(network);
                new Trainer<float>(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.01))
                    .Fit(x, y, new TrainingOptions { MaxSteps = 6, MinStepSize = null, BatchSize = 128 });
                return [.. network.Parameters().Concat(network.Buffers()).SelectMany(p => p.Data.ToArray())];
            }
            finally
            {
                Parallelism.MaxDegreeOfParallelism = saved;
            }
        }

        Assert.True(Run(1).AsSpan().SequenceEqual(Run(2)));
    }
}
