using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Training;

namespace Backprop.Tests.Runs;

/// <summary>A run's early stopping, learning-rate schedule, weight decay and gradient clipping (<see cref="RunSpec"/>).</summary>
public sealed class RunTuningTests
{
    // y = x² + noise on [-2, 2]: a net of 16 ReLUs trained with a high rate overfits its 48 rows and the validation loss turns.
    private static Dataset Curve(int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new double[rows];
        var y = new double[rows];
        for (var i = 0; i < rows; i++)
        {
            x[i] = (4 * rng.NextDouble()) - 2;
            y[i] = (x[i] * x[i]) + (0.5 * ((2 * rng.NextDouble()) - 1));
        }
        return new Dataset("curve", x, y, ["x"], ["y"]);
    }

    private static RunSpec Spec(RunData data, Loss? loss = null) => new()
    {
        Data = data,
        Network = new NetworkRecipe([1, 16, 1], Activation.Relu) { Seed = 2 },
        Loss = loss ?? new MeanSquaredError(),
        Optimizer = OptimizerKind.Adam,
        LearningRate = 0.05,
        Options = new TrainingOptions { Epochs = 400, BatchSize = 8 },
    };

    [Fact]
    public void Patience_stops_when_the_validation_loss_stops_improving_and_puts_back_the_best_weights()
    {
        var spec = Spec(RunData.Prepare(Curve(60, 4), validationFraction: 0.2, seed: 3)) with { Patience = 5 };

        var result = new TrainingRun(spec).Run();

        Assert.Equal(StopReason.Stopped, result.Result.StopReason);
        Assert.StartsWith("stopped early: the validation loss did not improve for 5 epochs; the best was ", result.Result.StopMessage, StringComparison.Ordinal);
        Assert.True(result.Epochs.Count < 400, $"{result.Epochs.Count} epochs");
        var losses = result.Epochs.Select(e => e.ValidationLoss!.Value).ToList();
        var best = losses.Min();
        Assert.Equal(losses.IndexOf(best) + 1, result.Epochs.Count - 5);
        // The weights of the best epoch: the validation rows score exactly as they did then.
        Assert.Equal(best, result.Validation!.Value.Loss, 12);
        Assert.True(result.Epochs[^1].ValidationLoss > best);
    }

    [Fact]
    public void Patience_watches_the_test_rows_when_there_is_no_validation_split()
    {
        var spec = Spec(new RunData(Curve(48, 4), Test: Curve(12, 9))) with { Patience = 5 };

        var result = new TrainingRun(spec).Run();

        Assert.Equal("test loss", spec.EarlyStoppingMetric);
        Assert.Equal(StopReason.Stopped, result.Result.StopReason);
        Assert.Contains("the test loss did not improve for 5 epochs", result.Result.StopMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Patience_without_held_out_rows_says_what_to_add()
    {
        var spec = Spec(new RunData(Curve(20, 1))) with { Patience = 3 };

        var error = Assert.Throws<BackpropException>(() => new TrainingRun(spec));

        Assert.Equal("--patience stops on the loss of held-out rows: give --validation FRACTION (or --test FILE) as well.", error.Message);
    }

    [Theory]
    [InlineData(ScheduleUnit.Epoch)]
    [InlineData(ScheduleUnit.Step)]
    public void The_schedule_sets_each_epochs_learning_rate(ScheduleUnit unit)
    {
        var schedule = LearningRateSchedule.LinearWarmup(3).Then(3, LearningRateSchedule.Cosine(7, 0.001));
        var spec = Spec(new RunData(Curve(48, 1))) with { Schedule = schedule, ScheduleUnit = unit, Options = new TrainingOptions { Epochs = 10, BatchSize = 16 } };

        var result = new TrainingRun(spec).Run();

        Assert.Equal(10, result.Epochs.Count);
        for (var e = 0; e < 10; e++)
        {
            // Per epoch: epoch e + 1 runs at t = e; per step: its last step (3 per epoch) at t = 3e + 2.
            var t = unit == ScheduleUnit.Epoch ? e : (3 * e) + 2;
            Assert.Equal(schedule.Rate(0.05, t), result.Epochs[e].LearningRate);
            Assert.Equal(3 * (e + 1), result.Epochs[e].Step);
        }
    }

    [Theory]
    [InlineData(OptimizerKind.GradientDescent)]
    [InlineData(OptimizerKind.Adam)]
    public void Weight_decay_and_clipping_are_the_optimizers_bit_for_bit(OptimizerKind kind)
    {
        var data = Curve(32, 5);
        var spec = Spec(new RunData(data)) with { Optimizer = kind, LearningRate = 0.01, WeightDecay = 0.05, MaxGradientNorm = 0.5, Options = new TrainingOptions { Epochs = 20, BatchSize = 8 } };

        var result = (RunResult<double>)new TrainingRun(spec).Run();

        var network = spec.Network.Build<double>();
        var optimizer = kind.Create(network.Parameters(), 0.01);
        optimizer.WeightDecay = 0.05;
        optimizer.MaxGradientNorm = 0.5;
        new Trainer<double>(network, new MeanSquaredError(), optimizer).Fit(data.InputTensor<double>(), data.TargetTensor<double>(), spec.Options);
        Assert.Equal(network.Elements().Select(e => e.Value), result.Network.Elements().Select(e => e.Value));
        var plain = (RunResult<double>)new TrainingRun(spec with { WeightDecay = 0, MaxGradientNorm = null }).Run();
        Assert.NotEqual(plain.Network.Elements().Select(e => e.Value), result.Network.Elements().Select(e => e.Value));
    }

    [Theory]
    [InlineData(-0.1, null, null, "--weight-decay must be a number ≥ 0; got -0.1.")]
    [InlineData(double.NaN, null, null, "--weight-decay must be a number ≥ 0; got NaN.")]
    [InlineData(0.0, 0.0, null, "--clip-norm must be a positive number; got 0.")]
    [InlineData(0.0, double.PositiveInfinity, null, "--clip-norm must be a positive number; got Infinity.")]
    [InlineData(0.0, null, -1, "--patience must be a whole number ≥ 0 of epochs; got -1.")]
    public void Bad_settings_name_the_option(double decay, double? clip, int? patience, string message)
    {
        var spec = Spec(RunData.Prepare(Curve(20, 1), validationFraction: 0.25)) with { WeightDecay = decay, MaxGradientNorm = clip, Patience = patience };

        Assert.Equal(message, Assert.Throws<BackpropException>(() => new TrainingRun(spec)).Message);
    }

    [Theory]
    [InlineData(1.5, null, null, "--loss bce needs targets from 0 to 1 (a class, 0 or 1, or a probability), but the data (zero-one) has 1.5 in row 3.")]
    [InlineData(null, -0.25, null, "--loss bce needs targets from 0 to 1 (a class, 0 or 1, or a probability), but the data (zero-one) has -0.25 in row 3.")]
    [InlineData(null, null, double.NaN, "--loss bce needs targets from 0 to 1 (a class, 0 or 1, or a probability), but the data (zero-one) has NaN in row 3.")]
    public void Binary_cross_entropy_refuses_targets_outside_0_to_1_in_any_set(double? train, double? validation, double? test, string message)
    {
        static Dataset ZeroOne(double? third) => new("zero-one", [0, 1, 2, 3], [0, 1, third ?? 0.5, 1], ["x"], ["y"]);
        var spec = Spec(new RunData(ZeroOne(train), ZeroOne(validation), ZeroOne(test)), new BinaryCrossEntropy());

        Assert.Equal(message, Assert.Throws<BackpropException>(() => new TrainingRun(spec)).Message);
        // Probabilities and the classes 0 and 1 train.
        Assert.Equal(StopReason.Epochs, new TrainingRun(Spec(new RunData(ZeroOne(null), ZeroOne(null), ZeroOne(null)), new BinaryCrossEntropy()) with { Options = new TrainingOptions { Epochs = 2 } }).Run().Result.StopReason);
    }

    [Fact]
    public void Test_rows_with_other_columns_are_refused()
    {
        var other = new Dataset("other", [1, 2, 3, 4], [1, 2], ["a", "b"], ["y"]);
        var spec = Spec(new RunData(Curve(20, 1), Test: other));

        var error = Assert.Throws<BackpropException>(() => new TrainingRun(spec));

        Assert.Equal("The test data (other) has 2 inputs and 1 target, but the training data (curve) has 1 and 1.", error.Message);
    }
}
