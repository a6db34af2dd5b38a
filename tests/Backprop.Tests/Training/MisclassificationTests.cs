using Backprop.Data;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class MisclassificationTests
{
    private static readonly Dataset Data = Dataset.ForClassification("four", [0, 1, 2, 3], [0, 1, 1, 0], ["x"], "class", ["a", "b"]);

    [Fact]
    public void The_wrong_rows_come_most_confident_first_and_ties_keep_row_order()
    {
        var rows = Misclassification.MostConfident(Data, [1, 1, 0, 1], [0.7, 0.99, 0.9, 0.9], count: 10);

        Assert.Equal([new MisclassifiedRow(2, 1, 0, 0.9), new MisclassifiedRow(3, 0, 1, 0.9), new MisclassifiedRow(0, 0, 1, 0.7)], rows);
        Assert.Single(Misclassification.MostConfident(Data, [1, 1, 0, 1], [0.7, 0.99, 0.9, 0.9], count: 1));
        Assert.Empty(Misclassification.MostConfident(Data, [0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5], count: 10));
    }

    [Fact]
    public void Arrays_of_the_wrong_length_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Misclassification.MostConfident(Data, [0, 1], [0.5, 0.5], 3));
        Assert.Equal("4 rows need 4 predictions and confidences; got 2 and 2.", e.Message);
    }

    [Fact]
    public void The_evaluator_gives_each_rows_softmax_probability_for_its_predicted_class()
    {
        var network = Backprop.Nn.Sequential<double>.Mlp([1, 2], Backprop.Nn.Activation.Identity);
        new Backprop.Nn.StandardNormalInitializer(seed: 9).Initialize(network);
        var evaluator = new Evaluator<double>(network, new Backprop.Losses.CrossEntropy(), chunkRows: 3);
        var predicted = new int[4];
        var confidence = new double[4];
        evaluator.Evaluate(Data, predictions: predicted, confidences: confidence);

        var logits = network.Forward(Data.InputTensor<double>()).ToDoubleArray();
        for (var r = 0; r < 4; r++)
        {
            var (z0, z1) = (logits[2 * r], logits[(2 * r) + 1]);
            var expected = Math.Max(z0, z1) == z0 ? Math.Exp(z0) / (Math.Exp(z0) + Math.Exp(z1)) : Math.Exp(z1) / (Math.Exp(z0) + Math.Exp(z1));
            Assert.Equal(expected, confidence[r], 1e-12);
            Assert.Equal(z1 > z0 ? 1 : 0, predicted[r]);
        }
    }
}
