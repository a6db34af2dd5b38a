using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class EvaluatorTests
{
    // 2,500 rows of 3 inputs in 4 classes, from a seeded generator.
    private static Dataset Blobs(int rows = 2500)
    {
        var rng = new Rng(7);
        var inputs = new double[rows * 3];
        var labels = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            labels[r] = rng.NextInt(4);
            for (var c = 0; c < 3; c++)
            {
                inputs[(r * 3) + c] = rng.NextNormal() + (c == labels[r] % 3 ? 2 : 0) + (labels[r] == 3 ? -2 : 0);
            }
        }
        return Dataset.ForClassification("blobs", inputs, labels, ["a", "b", "c"], "class", ["w", "x", "y", "z"]);
    }

    private static Sequential<double> Network()
    {
        var network = Sequential<double>.Mlp([3, 5, 4], Activation.Tanh);
        new XavierInitializer(3).Initialize(network);
        return network;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1024)]
    [InlineData(5000)]
    public void Chunked_loss_and_accuracy_equal_one_pass_over_all_rows(int chunk)
    {
        var data = Blobs();
        var network = Network();
        var (x, y) = (data.InputTensor<double>(), data.TargetTensor<double>());
        var outputs = network.Predict(x);
        var expectedLoss = new CrossEntropy().Compute(outputs, y).Item();
        long correct = 0;
        for (var r = 0; r < data.Count; r++)
        {
            var row = outputs.Data.Slice(r * 4, 4).ToArray();
            correct += Array.IndexOf(row, row.Max()) == (int)data.Targets[r] ? 1 : 0;
        }

        var evaluator = new Evaluator<double>(network, new CrossEntropy(), chunk);
        var fromTensors = evaluator.Evaluate(x, y);
        var fromData = evaluator.Evaluate(data);

        Assert.Equal(expectedLoss, fromTensors.Loss, 12);
        Assert.Equal((double)correct / data.Count, fromTensors.Accuracy);
        Assert.Equal(fromTensors, fromData);
        Assert.Equal(data.Count, fromData.Rows);
    }

    [Fact]
    public void Sums_add_up_over_chunks()
    {
        var data = new Dataset("line", [.. Enumerable.Range(0, 3000).Select(i => i / 3000.0)], [.. Enumerable.Range(0, 3000).Select(i => Math.Sin(i / 500.0))], ["x"], ["y"]);
        var network = Sequential<double>.Mlp([1, 4, 1], Activation.Tanh);
        new XavierInitializer(1).Initialize(network);
        var (x, y) = (data.InputTensor<double>(), data.TargetTensor<double>());
        var ssr = new SumSquaredResiduals().Compute(network.Predict(x), y).Item();
        var mse = new MeanSquaredError().Compute(network.Predict(x), y).Item();

        var chunkedSsr = new Evaluator<double>(network, new SumSquaredResiduals(), 100).Evaluate(x, y);

        Assert.Equal(ssr, chunkedSsr.Loss, 9);
        Assert.Null(chunkedSsr.Accuracy);
        Assert.Equal(mse, new Evaluator<double>(network, new MeanSquaredError(), 100).Evaluate(data).Loss, 12);
        // The trainer scores more than 1,024 rows in chunks too, with the same result.
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.01));
        Assert.Equal(ssr, trainer.Evaluate(x, y), 9);
    }

    [Fact]
    public void The_confusion_matrix_counts_observed_against_predicted()
    {
        var data = Blobs(300);
        var network = Network();
        var matrix = new ConfusionMatrix(data.ClassNames!);

        var score = new Evaluator<double>(network, new CrossEntropy(), 64).Evaluate(data, matrix);

        Assert.Equal(300, matrix.Total);
        Assert.Equal(score.Accuracy!.Value, matrix.Accuracy, 15);
        for (var c = 0; c < 4; c++)
        {
            var observed = data.Targets.ToArray().Count(t => t == c);
            Assert.Equal(observed, Enumerable.Range(0, 4).Sum(j => matrix[c, j]));
        }
    }

    [Fact]
    public void ArgMax_takes_the_first_of_equals_and_skips_NaN()
    {
        Assert.Equal(1, ConfusionMatrix.ArgMax<double>([0.0, 2, 2, 1]));
        Assert.Equal(2, ConfusionMatrix.ArgMax<float>([float.NaN, -1, 3]));
        Assert.Equal(0, ConfusionMatrix.ArgMax<double>([5.0]));
    }

    [Fact]
    public void Counting_fills_the_matrix_cell_by_cell()
    {
        var matrix = new ConfusionMatrix(["a", "b", "c"]);
        double[] outputs = [0.9, 0.1, 0, /* a→a */ 0.2, 0.7, 0.1, /* c→b */ 0, 0, 1 /* c→c */];

        var correct = ConfusionMatrix.Count<double>(outputs, [0.0, 2, 2], 3, matrix);

        Assert.Equal(2, correct);
        Assert.Equal(1, matrix[0, 0]);
        Assert.Equal(1, matrix[2, 1]);
        Assert.Equal(1, matrix[2, 2]);
        Assert.Equal(0, matrix[1, 1]);
        Assert.Equal(2 / 3.0, matrix.Accuracy, 15);
    }

    [Fact]
    public void The_history_has_one_record_per_epoch_with_validation()
    {
        var (train, validation) = Blobs(600).Split(100, 1);
        var network = Network();
        var trainer = new Trainer<double>(network, new CrossEntropy(), new Adam<double>(network.Parameters(), 0.05));
        var history = new EpochHistoryMonitor<double>(validation);
        var seen = new List<int>();
        history.EpochCompleted += e => seen.Add(e.Epoch);

        var result = trainer.Fit(train.InputTensor<double>(), train.TargetTensor<double>(),
            new TrainingOptions { Epochs = 4, BatchSize = 64, MaxSteps = int.MaxValue, MinStepSize = null }, [history]);

        Assert.Equal(StopReason.Epochs, result.StopReason);
        Assert.Equal([1, 2, 3, 4], seen);
        Assert.Equal(4 * 8, result.Steps); // 500 rows in batches of 64: 8 per epoch
        var first = history.History[0];
        var last = history.History[^1];
        // The epoch's training loss is the row-weighted mean of its batch losses.
        var batchLosses = result.LossHistory.Take(8).ToArray();
        Assert.Equal(((batchLosses[..7].Sum() * 64) + (batchLosses[7] * 52)) / 500, first.TrainLoss, 12);
        Assert.True(last.TrainLoss < first.TrainLoss);
        Assert.True(last.ValidationAccuracy > 0.6, $"validation accuracy {last.ValidationAccuracy}");
        var score = new Evaluator<double>(network, new CrossEntropy()).Evaluate(validation);
        Assert.Equal(score.Loss, last.ValidationLoss);
        Assert.Equal(score.Accuracy, last.ValidationAccuracy);
        Assert.All(history.History, e => Assert.InRange(e.TrainAccuracy!.Value, 0, 1));
        Assert.All(history.History, e => Assert.True(e.Seconds >= 0));
    }

    [Fact]
    public void Regression_history_has_no_accuracy_and_no_validation_without_data()
    {
        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        var history = new EpochHistoryMonitor<double>();

        var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { Epochs = 3 }, [history]);

        Assert.Equal(3, history.History.Count);
        Assert.All(history.History, e => Assert.Equal(result.LossHistory[e.Epoch - 1], e.TrainLoss, 12));
        Assert.All(history.History, e => Assert.Null(e.TrainAccuracy));
        Assert.All(history.History, e => Assert.Null(e.ValidationLoss));
    }
}
