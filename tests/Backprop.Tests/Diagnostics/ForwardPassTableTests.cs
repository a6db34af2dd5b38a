using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Scalar;
using Backprop.Tensors;

namespace Backprop.Tests.Diagnostics;

/// <summary>The forward pass point by point (what <c>explain</c> prints): each x_{j,i}, y_{j,i} and Predicted_i.</summary>
public sealed class ForwardPassTableTests
{
    private static double SoftPlus(double x) => Math.Log(1 + Math.Exp(x));

    [Fact]
    public void The_lessons_table_holds_each_units_input_and_output_and_the_prediction_by_the_lessons_formulas()
    {
        double[] dosage = [0, 0.5, 1];
        var graph = NetworkGraph.Build(Lesson.CreateNetwork<double>(), new SumSquaredResiduals(), dosage, [0, 1, 0]);

        var table = ForwardPassTable.Read(graph);

        Assert.Equal(["Input_i", "x1,i", "y1,i", "x2,i", "y2,i", "Predicted_i", "Observed_i"], table.Columns.Where(c => c is not "Residual_i" and not "SquaredResidual_i"));
        Assert.Equal(3, table.Rows.Count);
        double Cell(int row, string column) => table.Rows[row][table.Columns.ToList().IndexOf(column)];
        for (var i = 0; i < 3; i++)
        {
            // The lesson's starting values: w1 2.74, b1 0, w2 −1.13, b2 0, w3 0.36, w4 0.63, b3 0.
            var (x1, x2) = (dosage[i] * 2.74, dosage[i] * -1.13);
            Assert.Equal(dosage[i], Cell(i, "Input_i"));
            Assert.Equal(x1, Cell(i, "x1,i"), 14);
            Assert.Equal(SoftPlus(x1), Cell(i, "y1,i"), 14);
            Assert.Equal(x2, Cell(i, "x2,i"), 14);
            Assert.Equal(SoftPlus(x2), Cell(i, "y2,i"), 14);
            Assert.Equal((0.36 * SoftPlus(x1)) + (0.63 * SoftPlus(x2)), Cell(i, "Predicted_i"), 14);
            Assert.Equal(i == 1 ? 1 : 0, Cell(i, "Observed_i"));
        }
    }

    [Fact]
    public void Another_networks_table_names_units_by_layer_and_predicts_as_the_tensor_engine()
    {
        var network = Sequential<double>.Mlp([2, 3, 1], Activation.Tanh, Activation.Identity);
        new StandardNormalInitializer(4).Initialize(network);
        double[] inputs = [0.5, -1, 2, 0.25];

        var table = ForwardPassTable.Read(NetworkGraph.Build(network, new MeanSquaredError(), inputs, [1, -1]));

        Assert.Equal(2, table.Rows.Count);
        var columns = table.Columns.ToList();
        Assert.Contains("Predicted_i", columns);
        Assert.Equal(3, columns.Count(c => c.StartsWith("layer0.x[", StringComparison.Ordinal)));
        Assert.Equal(3, columns.Count(c => c.StartsWith("layer0.y[", StringComparison.Ordinal)));
        var predicted = network.Predict(Tensor<double>.FromArray(inputs, 2, 2)).ToDoubleArray();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(predicted[i], table.Rows[i][columns.IndexOf("Predicted_i")], 14);
            // Each hidden unit's output is tanh of its input.
            for (var j = 0; j < 3; j++)
            {
                var x = table.Rows[i][columns.IndexOf($"layer0.x[{j}],i")];
                Assert.Equal(Math.Tanh(x), table.Rows[i][columns.IndexOf($"layer0.y[{j}],i")], 14);
            }
        }
    }
}
