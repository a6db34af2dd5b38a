using Backprop.Autograd;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Tests.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class TrainerTests
{
    private static readonly string[] lessonOrder = ["w1", "b1", "w2", "b2", "w3", "w4", "b3"];

    private static Tensor<double> Dosage => Datasets.Dosage.InputTensor<double>();

    private static Tensor<double> Efficacy => Datasets.Dosage.TargetTensor<double>();

    private static Trainer<double> LessonTrainer(Sequential<double> network, double learningRate = Lesson.LearningRate)
        => new(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), learningRate));

    private static double[] Values(Module<double> network) => [.. network.Elements().Select(e => e.Value)];

    // A smooth regression problem: y = sin(x1) + 0.5·x2·x3 on 96 random rows.
    private static (Tensor<double> X, Tensor<double> Y) Synthetic()
    {
        var rng = new Rng(5);
        var x = new Tensor<double>(new Shape(96, 3));
        var y = new Tensor<double>(new Shape(96, 1));
        for (var r = 0; r < 96; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                x[r, c] = rng.NextUniform(-2, 2);
            }
            y[r, 0] = Math.Sin(x[r, 0]) + (0.5 * x[r, 1] * x[r, 2]);
        }
        return (x, y);
    }

    [Fact]
    public void The_lessons_default_run_fits_the_three_points()
    {
        var network = Lesson.CreateNetwork<double>();

        var result = LessonTrainer(network).Fit(Dosage, Efficacy);

        Assert.Equal(StopReason.StepSizeBelowThreshold, result.StopReason);
        Assert.Equal("every step size is below 0.001", result.StopMessage);
        Assert.InRange(result.Steps, 100, 999);
        Assert.Equal(result.Steps, result.LossHistory.Count);
        Assert.Equal(1.8958781559227895, result.InitialLoss, 1e-12);
        Assert.Equal(result.InitialLoss, result.LossHistory[0]);
        Assert.True(result.FinalLoss < 1e-3, $"final SSR {result.FinalLoss}");
        Assert.True(result.FinalLoss < result.InitialLoss / 1000);
        var predicted = network.Predict(Dosage);
        Assert.Equal(0, predicted[0], 0.025);
        Assert.Equal(1, predicted[1], 0.025);
        Assert.Equal(0, predicted[2], 0.025);
    }

    [Fact]
    public void The_default_run_is_gradient_descent_by_the_lessons_formulas_step_by_step()
    {
        var network = Lesson.CreateNetwork<double>();
        var result = LessonTrainer(network).Fit(Dosage, Efficacy);

        // The same run in plain doubles: step size = 0.1 × derivative; stop when all are below 0.001.
        double[] p = [2.74, 0, -1.13, 0, 0.36, 0.63, 0];
        var steps = 0;
        while (steps < 1000)
        {
            var g = LessonTests.ClosedFormGradients(p);
            var largest = 0.0;
            for (var i = 0; i < 7; i++)
            {
                var stepSize = 0.1 * g[i];
                p[i] -= stepSize;
                largest = Math.Max(largest, Math.Abs(stepSize));
            }
            steps++;
            if (largest < 0.001)
            {
                break;
            }
        }

        Assert.Equal(steps, result.Steps);
        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(p[i], network.Element(lessonOrder[i]).Value, 1e-9);
        }
    }

    [Fact]
    public void The_step_callback_sees_every_step()
    {
        var steps = new List<StepInfo>();

        var result = LessonTrainer(Lesson.CreateNetwork<double>()).Fit(Dosage, Efficacy, onStep: steps.Add);

        Assert.Equal(Enumerable.Range(1, result.Steps), steps.Select(s => s.Step));
        Assert.Equal(result.LossHistory, steps.Select(s => s.Loss));
        Assert.True(steps[^1].MaxStepSize < 0.001);
        Assert.All(steps.SkipLast(1), s => Assert.True(s.MaxStepSize >= 0.001));
    }

    [Fact]
    public void MaxSteps_stops_after_exactly_that_many_steps()
    {
        var network = Lesson.CreateNetwork<double>();

        var result = LessonTrainer(network).Fit(Dosage, Efficacy, new TrainingOptions { MaxSteps = 5 });

        Assert.Equal(5, result.Steps);
        Assert.Equal(StopReason.MaxSteps, result.StopReason);
        Assert.Equal("reached the maximum of 5 steps", result.StopMessage);
        Assert.Equal(5, result.LossHistory.Count);
        Assert.True(result.FinalLoss < result.InitialLoss);
    }

    [Fact]
    public void Zero_steps_leave_the_network_as_it_was()
    {
        var network = Lesson.CreateNetwork<double>();
        var before = Values(network);

        var result = LessonTrainer(network).Fit(Dosage, Efficacy, new TrainingOptions { MaxSteps = 0 });

        Assert.Equal(0, result.Steps);
        Assert.Equal(StopReason.MaxSteps, result.StopReason);
        Assert.Empty(result.LossHistory);
        Assert.Equal(before, Values(network));
        Assert.Equal(result.InitialLoss, result.FinalLoss);
    }

    [Fact]
    public void Training_stops_once_the_loss_reaches_the_target()
    {
        var result = LessonTrainer(Lesson.CreateNetwork<double>()).Fit(Dosage, Efficacy, new TrainingOptions { TargetLoss = 0.1 });

        Assert.Equal(StopReason.TargetLoss, result.StopReason);
        Assert.Equal("the loss reached the target 0.1", result.StopMessage);
        Assert.True(result.FinalLoss <= 0.1);
        Assert.True(result.LossHistory[^1] <= 0.1);
        // It stopped at the first loss at or below the target: every earlier one was above it.
        Assert.All(result.LossHistory.SkipLast(1), loss => Assert.True(loss > 0.1));
        Assert.InRange(result.Steps, 1, 999);
    }

    [Fact]
    public void Stage_1_changes_only_b3_and_finds_its_best_value()
    {
        var stage = Lesson.Stage(1);
        var network = Lesson.CreateNetwork<double>();
        Lesson.SetValues(network, stage.StartingValues);
        network.TrainOnly(stage.Trained);

        var result = LessonTrainer(network).Fit(Dosage, Efficacy);

        Assert.Equal(StopReason.StepSizeBelowThreshold, result.StopReason);
        foreach (var name in lessonOrder.Where(n => n != "b3"))
        {
            Assert.Equal(stage.StartingValues[name], network.Element(name).Value);
        }
        // SSR is a parabola in b3, least at b3 = mean(Observed − (w3·y1 + w4·y2)).
        double best = 0;
        double[] input = [0, 0.5, 1], observed = [0, 1, 0];
        for (var i = 0; i < 3; i++)
        {
            var y1 = Math.Log(1 + Math.Exp((input[i] * 3.34) - 1.43));
            var y2 = Math.Log(1 + Math.Exp((input[i] * -3.53) + 0.57));
            best += (observed[i] - ((-1.22 * y1) + (-2.30 * y2))) / 3;
        }
        Assert.Equal(2.61, best, 0.005); // the lesson's value
        Assert.Equal(best, network.Element("b3").Value, 0.001);
    }

    [Fact]
    public void Stage_2_changes_only_the_output_layer()
    {
        var stage = Lesson.Stage(2);
        var network = Lesson.CreateNetwork<double>();
        Lesson.SetValues(network, stage.StartingValues);
        network.TrainOnly(stage.Trained);

        var result = LessonTrainer(network).Fit(Dosage, Efficacy);

        foreach (var name in lessonOrder)
        {
            if (stage.Trained.Contains(name))
            {
                Assert.NotEqual(stage.StartingValues[name], network.Element(name).Value);
            }
            else
            {
                Assert.Equal(stage.StartingValues[name], network.Element(name).Value);
            }
        }
        Assert.True(result.FinalLoss < result.InitialLoss / 10);
    }

    private static double[] RandomRun(ulong initSeed, ulong shuffleSeed)
    {
        var (x, y) = Synthetic();
        var network = Sequential<double>.Mlp([3, 8, 1], Activation.Tanh);
        new StandardNormalInitializer(initSeed).Initialize(network);
        var trainer = new Trainer<double>(network, new MeanSquaredError(), new Adam<double>(network.Parameters(), 0.01));
        trainer.Fit(x, y, new TrainingOptions { MaxSteps = 40, BatchSize = 10, ShuffleSeed = shuffleSeed, MinStepSize = null });
        return Values(network);
    }

    [Fact]
    public void The_same_seeds_give_bit_identical_parameters()
    {
        var first = RandomRun(42, 7);
        var again = RandomRun(42, 7);

        Assert.Equal(first.Select(BitConverter.DoubleToInt64Bits), again.Select(BitConverter.DoubleToInt64Bits));
        Assert.NotEqual(first, RandomRun(42, 8));
        Assert.NotEqual(first, RandomRun(43, 7));
    }

    [Fact]
    public void Mini_batches_reduce_the_loss_on_a_regression_problem()
    {
        var (x, y) = Synthetic();
        var network = Sequential<double>.Mlp([3, 16, 1], Activation.Tanh);
        new XavierInitializer(3).Initialize(network);
        var trainer = new Trainer<double>(network, new MeanSquaredError(), new Adam<double>(network.Parameters(), 0.02));

        var result = trainer.Fit(x, y, new TrainingOptions { MaxSteps = 600, BatchSize = 16, MinStepSize = null });

        Assert.Equal(600, result.Steps);
        Assert.True(result.FinalLoss < result.InitialLoss / 5, $"loss {result.InitialLoss} → {result.FinalLoss}");
        Assert.Equal(trainer.Evaluate(x, y), result.FinalLoss);
    }

    [Fact]
    public void A_last_smaller_batch_is_trained_too()
    {
        // 3 rows in batches of 2: every epoch is a batch of 2 and a batch of 1.
        var steps = new List<StepInfo>();
        var network = Lesson.CreateNetwork<double>();

        var result = LessonTrainer(network).Fit(Dosage, Efficacy, new TrainingOptions { BatchSize = 2, MaxSteps = 200, MinStepSize = null }, steps.Add);

        Assert.Equal(200, result.Steps);
        Assert.True(result.FinalLoss < result.InitialLoss / 2);
        Assert.Equal(200, steps.Count);
    }

    [Fact]
    public void A_huge_learning_rate_is_reported_as_divergence()
    {
        var result = LessonTrainer(Lesson.CreateNetwork<double>(), learningRate: 1e6).Fit(Dosage, Efficacy, new TrainingOptions { MinStepSize = null });

        Assert.Equal(StopReason.Diverged, result.StopReason);
        Assert.Contains("smaller learning rate", result.StopMessage, StringComparison.Ordinal);
        // It names the step and the operation where the non-finite number first appeared.
        Assert.Contains($"in step {result.Steps + 1}: it first appeared in ", result.StopMessage, StringComparison.Ordinal);
        Assert.Matches(@"appeared in \w+ \(operation \d+ of \d+; inputs: ", result.StopMessage);
        Assert.InRange(result.Steps, 1, 999);
        Assert.All(result.LossHistory, loss => Assert.True(double.IsFinite(loss)));
    }

    [Theory]
    [InlineData(-1, 0.001, null, null, "maximum number of steps")]
    [InlineData(10, -0.5, null, null, "minimum step size")]
    [InlineData(10, double.NaN, null, null, "minimum step size")]
    [InlineData(10, double.PositiveInfinity, null, null, "minimum step size")]
    [InlineData(10, 0.001, double.NaN, null, "target loss")]
    [InlineData(10, 0.001, double.NegativeInfinity, null, "target loss must be a finite number")]
    [InlineData(10, 0.001, null, 0, "batch size")]
    [InlineData(10, 0.001, null, -4, "batch size")]
    public void Bad_options_are_named(int maxSteps, double minStepSize, double? targetLoss, int? batchSize, string named)
    {
        var options = new TrainingOptions { MaxSteps = maxSteps, MinStepSize = minStepSize, TargetLoss = targetLoss, BatchSize = batchSize };

        var e = Assert.Throws<BackpropException>(options.Validate);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);

        var network = Lesson.CreateNetwork<double>();
        var before = Values(network);
        Assert.Throws<BackpropException>(() => LessonTrainer(network).Fit(Dosage, Efficacy, options));
        Assert.Equal(before, Values(network));
    }

    [Fact]
    public void The_default_options_are_the_lessons()
    {
        var options = new TrainingOptions();

        options.Validate();
        Assert.Equal(Lesson.MaxSteps, options.MaxSteps);
        Assert.Equal(Lesson.MinStepSize, options.MinStepSize);
        Assert.Null(options.TargetLoss);
        Assert.Null(options.BatchSize);
    }

    [Fact]
    public void Inputs_and_targets_must_have_the_same_rows()
    {
        var e = Assert.Throws<BackpropException>(() => LessonTrainer(Lesson.CreateNetwork<double>()).Fit(Dosage, Tensor<double>.Zeros(2, 1)));

        Assert.Contains("[3, 1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_is_the_loss_without_recording()
    {
        var trainer = LessonTrainer(Lesson.CreateNetwork<double>());

        Assert.Equal(1.8958781559227895, trainer.Evaluate(Dosage, Efficacy), 1e-12);
        Assert.True(GradMode.IsEnabled);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_replayed_training_step_allocates_nothing(string optimizerName)
    {
        var network = Lesson.CreateNetwork<double>();
        var graph = new Graph<double>(new SumSquaredResiduals().Compute(network.Forward(Dosage), Efficacy));
        var optimizer = Optimizer<double>.Create(optimizerName, network.Parameters(), 0.01);
        for (var i = 0; i < 5; i++)
        {
            graph.Forward();
            optimizer.ZeroGrad();
            graph.Backward();
            optimizer.Step();
        }
        var lossBefore = graph.Root.Item();

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            graph.Forward();
            optimizer.ZeroGrad();
            graph.Backward();
            optimizer.Step();
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.Equal(0, allocated);
        Assert.True(graph.Root.Item() < lossBefore, "the replayed steps did not train the network");
    }
}
