using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Training;

namespace Backprop.Tests.Runs;

public sealed class TrainingRunTests
{
    private static Dataset Xor(int copies = 1)
    {
        double[] inputs = [.. Enumerable.Repeat<double[]>([0, 0, 0, 1, 1, 0, 1, 1], copies).SelectMany(x => x)];
        int[] labels = [.. Enumerable.Repeat<int[]>([0, 1, 1, 0], copies).SelectMany(x => x)];
        return Dataset.ForClassification("xor", inputs, labels, ["a", "b"], "class", ["no", "yes"]);
    }

    [Fact]
    public void The_lessons_run_is_the_trainers_run_bit_for_bit()
    {
        var spec = new RunSpec { Data = new RunData(Datasets.Dosage), Network = new NetworkRecipe([1, 2, 1], Activation.SoftPlus) };

        var run = (RunResult<double>)new TrainingRun(spec).Run();

        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        var expected = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions());
        Assert.Equal(expected.Steps, run.Result.Steps);
        Assert.Equal(expected.FinalLoss, run.Result.FinalLoss);
        Assert.Equal(network.Elements().Select(e => e.Value), run.Network.Elements().Select(e => e.Value));
        Assert.Equal(["w1", "b1", "w2", "b2", "w3", "w4", "b3"], run.Parameters().Select(p => p.Name));
        Assert.Equal(Lesson.StartingValues["w1"], run.Parameters()[0].Start);
        // Full batch: every step is an epoch, each recorded.
        Assert.Equal(expected.Steps, run.Epochs.Count);
        Assert.Null(run.Confusion);
        Assert.Equal(3, run.Train!.Value.Rows);
    }

    [Fact]
    public void A_float_classifier_trains_as_the_trainer_does_and_is_scored_on_its_test_rows()
    {
        var data = new RunData(Xor(8), Test: Xor());
        var spec = new RunSpec
        {
            Data = data,
            Network = new NetworkRecipe([2, 8, 2], Activation.Tanh) { Seed = 3 },
            Loss = new CrossEntropy(),
            Optimizer = OptimizerKind.Adam,
            LearningRate = 0.05,
            Options = new TrainingOptions { Epochs = 40, BatchSize = 8, MaxSteps = int.MaxValue, MinStepSize = null, ShuffleSeed = 3 },
            Precision = Precision.Float,
        };
        var epochs = new List<EpochRecord>();
        var run = new TrainingRun(spec);
        run.EpochCompleted += epochs.Add;

        var result = Assert.IsType<RunResult<float>>(run.Run());

        // The same by hand: Xavier for a tanh classifier (the default), Adam, the same shuffling.
        var network = Sequential<float>.Mlp([2, 8, 2], Activation.Tanh);
        new XavierInitializer(3).Initialize(network);
        var trainer = new Trainer<float>(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.05));
        var expected = trainer.Fit(data.Train.InputTensor<float>(), data.Train.TargetTensor<float>(), spec.Options);
        Assert.Equal(network.Elements().Select(e => e.Value), result.Network.Elements().Select(e => e.Value));
        Assert.Equal(expected.Steps, result.Result.Steps);
        Assert.Equal(40, epochs.Count);
        Assert.Equal(epochs, result.Epochs);
        Assert.Equal("test", result.ConfusionSource);
        Assert.Equal(4, result.Confusion!.Total);
        Assert.Equal(trainer.Evaluator.Evaluate(Xor()).Accuracy, result.Test!.Value.Accuracy);
        Assert.Equal(4, result.PredictedClasses!.Count);
    }

    [Fact]
    public void Regression_runs_score_their_validation_rows_after_every_epoch()
    {
        var rows = Enumerable.Range(0, 40).Select(i => i / 40.0).ToArray();
        var data = new Dataset("line", rows, [.. rows.Select(x => (2 * x) + 1)], ["x"], ["y"]);
        var spec = new RunSpec
        {
            Data = RunData.Prepare(data, validationFraction: 0.25, seed: 5),
            Network = new NetworkRecipe([1, 4, 1], Activation.Tanh),
            Loss = new MeanSquaredError(),
            Options = new TrainingOptions { Epochs = 5, BatchSize = 10, MaxSteps = int.MaxValue, MinStepSize = null },
        };

        var result = new TrainingRun(spec).Run();

        Assert.Equal(30, spec.Data.Train.Count);
        Assert.Equal(10, spec.Data.Validation!.Count);
        Assert.Equal(5, result.Epochs.Count);
        Assert.All(result.Epochs, e => Assert.NotNull(e.ValidationLoss));
        Assert.All(result.Epochs, e => Assert.Null(e.ValidationAccuracy));
        Assert.Equal(result.Epochs[^1].ValidationLoss, result.Validation!.Value.Loss);
        Assert.Equal("validation", result.ConfusionSource);
    }

    [Fact]
    public void A_captured_step_rewinds_the_network_to_the_values_before_it()
    {
        var spec = new RunSpec { Data = new RunData(Datasets.Dosage), Network = new NetworkRecipe([1, 2, 1], Activation.SoftPlus) };

        var step = new TrainingRun(spec).CaptureStep(2);

        Assert.True(step.Reached);
        var values = step.Network.Elements().Select(e => e.Value).ToArray();
        Assert.Equal(step.Before, values);
        // Gradient descent: after = before − 0.1 × gradient, number by number.
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(step.Before![i] - (0.1 * step.Gradients![i]), step.After![i], 15);
        }
        Assert.NotEqual(Lesson.StartingValues["w1"], step.Network.Element("w1").Value);
    }

    [Theory]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.Adam)]
    public void A_captured_step_holds_the_optimizers_state_before_and_after_it_by_its_rule(OptimizerKind kind)
    {
        var spec = new RunSpec { Data = new RunData(Datasets.Dosage), Network = new NetworkRecipe([1, 2, 1], Activation.SoftPlus), Optimizer = kind };

        var step = new TrainingRun(spec).CaptureStep(2);

        Assert.True(step.Reached);
        Assert.Equal(1, step.StateBefore!.StepCount);
        Assert.Equal(2, step.StateAfter!.StepCount);
        double[] Kind(OptimizerState<double> state, string name) => [.. state.Arrays.Where(a => a.Key.StartsWith(name + "/", StringComparison.Ordinal)).SelectMany(a => a.Value)];
        var (g, before, after) = (step.Gradients!, step.Before!, step.After!);
        Assert.Equal(7, g.Count);
        for (var i = 0; i < g.Count; i++)
        {
            if (kind == OptimizerKind.Momentum)
            {
                // v = 0.9 × old v + g; new = old − 0.1 × v (what explain writes out).
                var v = (0.9 * Kind(step.StateBefore, "velocity")[i]) + g[i];
                Assert.Equal(v, Kind(step.StateAfter, "velocity")[i], 15);
                Assert.Equal(before[i] - (0.1 * v), after[i], 15);
            }
            else
            {
                // Adam's step t = 2: m and v, their bias corrections, the step.
                var m = (0.9 * Kind(step.StateBefore, "m")[i]) + (0.1 * g[i]);
                var v = (0.999 * Kind(step.StateBefore, "v")[i]) + (0.001 * g[i] * g[i]);
                Assert.Equal(m, Kind(step.StateAfter, "m")[i], 15);
                Assert.Equal(v, Kind(step.StateAfter, "v")[i], 15);
                var (mHat, vHat) = (m / (1 - (0.9 * 0.9)), v / (1 - (0.999 * 0.999)));
                Assert.Equal(before[i] - (0.1 * mHat / (Math.Sqrt(vHat) + 1e-8)), after[i], 14);
            }
        }
    }

    [Fact]
    public void A_step_after_the_run_stops_is_not_reached()
    {
        var spec = new RunSpec { Data = new RunData(Datasets.Dosage), Network = new NetworkRecipe([1, 2, 1], Activation.SoftPlus) };

        var step = new TrainingRun(spec).CaptureStep(600);

        Assert.False(step.Reached);
        Assert.Equal(StopReason.StepSizeBelowThreshold, step.Result.StopReason);
    }

    [Theory]
    [InlineData("[2,4,2]", "mse", "The data (xor) has class labels; train it with --loss cross-entropy (its default), not mse.")]
    [InlineData("[3,4,2]", "cross-entropy", "--layers starts with 3 inputs but the data (xor) has 2 input columns.")]
    [InlineData("[2,4,3]", "cross-entropy", "--layers ends with 3 outputs but the data (xor) has 2 classes: one output per class.")]
    public void A_spec_that_does_not_fit_its_data_says_why(string layers, string loss, string message)
    {
        var spec = new RunSpec
        {
            Data = new RunData(Xor()),
            Network = new NetworkRecipe(System.Text.Json.JsonSerializer.Deserialize<int[]>(layers)!, Activation.Relu),
            Loss = Loss.Create(loss),
        };

        Assert.Equal(message, Assert.Throws<BackpropException>(() => new TrainingRun(spec)).Message);
    }

    [Fact]
    public void The_default_starting_values_suit_the_task()
    {
        Assert.Equal("lesson", NetworkRecipe.DefaultInit([1, 2, 1], new SumSquaredResiduals(), Activation.SoftPlus));
        Assert.Equal("normal", NetworkRecipe.DefaultInit([1, 3, 1], new SumSquaredResiduals(), Activation.Relu));
        Assert.Equal("he", NetworkRecipe.DefaultInit([2, 3, 2], new CrossEntropy(), Activation.Relu));
        Assert.Equal("xavier", NetworkRecipe.DefaultInit([2, 3, 2], new CrossEntropy(), Activation.Tanh));
    }

    [Fact]
    public void Planned_steps_count_epochs_of_batches()
    {
        var spec = new RunSpec
        {
            Data = new RunData(Xor(25)),
            Network = new NetworkRecipe([2, 4, 2], Activation.Relu),
            Loss = new CrossEntropy(),
            Options = new TrainingOptions { Epochs = 3, BatchSize = 32, MaxSteps = int.MaxValue },
        };

        Assert.Equal(4, spec.StepsPerEpoch); // 100 rows: 32, 32, 32, 4
        Assert.Equal(12, spec.PlannedSteps);
        Assert.Equal(10, (spec with { Options = spec.Options with { MaxSteps = 10 } }).PlannedSteps);
    }

    [Fact]
    public void Predictions_over_many_rows_come_in_chunks_with_the_bits_of_one_forward_pass()
    {
        // 20,000 rows: more than two chunks of 8,192, the last one short.
        var rng = new Rng(5);
        var inputs = new double[20_000 * 3];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = rng.NextUniform(-1, 1);
        }
        var data = new Dataset("many", inputs, new double[40_000], ["a", "b", "c"], ["y", "z"]);
        var spec = new RunSpec { Data = new RunData(data), Network = new NetworkRecipe([3, 4, 2], Activation.Tanh), Options = new TrainingOptions { MaxSteps = 2 } };
        var run = (RunResult<double>)new TrainingRun(spec).Run();

        var predicted = run.Predict(data);

        var whole = run.Network.Predict(data.InputTensor<double>()).ToDoubleArray();
        Assert.Equal(whole, predicted);
    }
}
