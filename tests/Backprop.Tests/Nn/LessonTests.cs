using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

public sealed class LessonTests
{
    private static readonly string[] order = ["w1", "b1", "w2", "b2", "w3", "w4", "b3"];
    private static readonly double[] dosage = [0.0, 0.5, 1.0];
    private static readonly double[] efficacy = [0.0, 1.0, 0.0];

    // The lesson's closed-form derivatives ("The chain rule for every parameter"), in plain doubles,
    // written out independently of the library. p is in the lesson's order w1 b1 w2 b2 w3 w4 b3.
    internal static double[] ClosedFormGradients(double[] p)
    {
        double w1 = p[0], b1 = p[1], w2 = p[2], b2 = p[3], w3 = p[4], w4 = p[5], b3 = p[6];
        var g = new double[7];
        for (var i = 0; i < 3; i++)
        {
            var input = dosage[i];
            var x1 = (input * w1) + b1;
            var x2 = (input * w2) + b2;
            var y1 = Math.Log(1 + Math.Exp(x1));
            var y2 = Math.Log(1 + Math.Exp(x2));
            var predicted = (y1 * w3) + (y2 * w4) + b3;
            var dSsrdPredicted = -2 * (efficacy[i] - predicted);
            var dy1dx1 = Math.Exp(x1) / (1 + Math.Exp(x1));
            var dy2dx2 = Math.Exp(x2) / (1 + Math.Exp(x2));
            g[0] += dSsrdPredicted * w3 * dy1dx1 * input;
            g[1] += dSsrdPredicted * w3 * dy1dx1 * 1;
            g[2] += dSsrdPredicted * w4 * dy2dx2 * input;
            g[3] += dSsrdPredicted * w4 * dy2dx2 * 1;
            g[4] += dSsrdPredicted * y1;
            g[5] += dSsrdPredicted * y2;
            g[6] += dSsrdPredicted * 1;
        }
        return g;
    }

    private static double[] BackpropGradients(Sequential<double> network)
    {
        network.ZeroGrad();
        var dosageData = Datasets.Dosage;
        new SumSquaredResiduals().Compute(network.Forward(dosageData.InputTensor<double>()), dosageData.TargetTensor<double>()).Backward();
        return [.. order.Select(n => network.Element(n).Gradient)];
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what)
        => Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)),
            $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void The_network_has_the_lessons_seven_names_and_starting_values()
    {
        var network = Lesson.CreateNetwork<double>();

        Assert.Equal(["w1", "w2", "b1", "b2", "w3", "w4", "b3"], network.Elements().Select(e => e.Name));
        Assert.Equal(order, Lesson.ParameterNames);
        double[] expected = [2.74, 0, -1.13, 0, 0.36, 0.63, 0];
        for (var i = 0; i < order.Length; i++)
        {
            Assert.Equal(expected[i], network.Element(order[i]).Value);
            Assert.Equal(expected[i], Lesson.StartingValues[order[i]]);
        }
        Assert.Equal("Dense(1 → 2, SoftPlus) → Dense(2 → 1, Identity)", network.Describe());
        Assert.True(Lesson.IsLessonShaped(network));
    }

    [Fact]
    public void The_names_sit_where_the_lesson_draws_them()
    {
        var network = Lesson.CreateNetwork<float>();
        var hidden = (Dense<float>)network.Layers[0];
        var output = (Dense<float>)network.Layers[1];

        // w1 and b1 feed the top hidden node (unit 0), w2 and b2 the bottom one; w3 leaves the top node.
        Assert.Equal(["w1", "w2"], hidden.Weight.ElementNames);
        Assert.Equal(["b1", "b2"], hidden.Bias.ElementNames);
        Assert.Equal(["w3", "w4"], output.Weight.ElementNames);
        Assert.Equal(["b3"], output.Bias.ElementNames);
        Assert.Equal(2.74f, hidden.Weight[0, 0]);
        Assert.Equal(-1.13f, hidden.Weight[0, 1]);
        Assert.Equal(0.36f, output.Weight[0, 0]);
        Assert.Equal(0.63f, output.Weight[1, 0]);
    }

    [Fact]
    public void The_SSR_at_the_starting_values_matches_a_hand_computation()
    {
        var network = Lesson.CreateNetwork<double>();
        var loss = new SumSquaredResiduals().Compute(network.Forward(Datasets.Dosage.InputTensor<double>()), Datasets.Dosage.TargetTensor<double>());

        double expected = 0;
        for (var i = 0; i < 3; i++)
        {
            var predicted = (Math.Log(1 + Math.Exp(dosage[i] * 2.74)) * 0.36) + (Math.Log(1 + Math.Exp(dosage[i] * -1.13)) * 0.63);
            expected += (efficacy[i] - predicted) * (efficacy[i] - predicted);
        }
        AssertClose(expected, loss.Item(), 1e-14, "SSR");
        // The same value, computed once outside .NET.
        Assert.Equal(1.8958781559227895, loss.Item(), 1e-12);
    }

    [Fact]
    public void Backprop_gives_the_lessons_closed_form_derivatives_at_the_starting_values()
    {
        var network = Lesson.CreateNetwork<double>();
        var expected = ClosedFormGradients([2.74, 0, -1.13, 0, 0.36, 0.63, 0]);

        var actual = BackpropGradients(network);

        for (var i = 0; i < 7; i++)
        {
            AssertClose(expected[i], actual[i], 1e-12, $"dSSR/d{order[i]}");
        }
        // dSSR/dw3 at the start, computed once outside .NET: a golden value.
        Assert.Equal(7.142314400495206, actual[4], 1e-12);
    }

    [Fact]
    public void Backprop_gives_the_lessons_closed_form_derivatives_at_random_points()
    {
        var rng = new Rng(2024);
        var network = Lesson.CreateNetwork<double>();
        for (var point = 0; point < 20; point++)
        {
            var p = new double[7];
            for (var i = 0; i < 7; i++)
            {
                p[i] = rng.NextUniform(-4, 4);
                network.Element(order[i]).Value = p[i];
            }

            var actual = BackpropGradients(network);
            var expected = ClosedFormGradients(p);

            for (var i = 0; i < 7; i++)
            {
                AssertClose(expected[i], actual[i], 1e-12, $"point {point}, dSSR/d{order[i]}");
            }
        }
    }

    [Fact]
    public void Stage_1_trains_b3_alone_from_the_optimised_values()
    {
        var stage = Lesson.Stage(1);

        Assert.Equal(1, stage.Number);
        Assert.Equal(["b3"], stage.Trained);
        Assert.Equal(new Dictionary<string, double>
        {
            ["w1"] = 3.34,
            ["b1"] = -1.43,
            ["w2"] = -3.53,
            ["b2"] = 0.57,
            ["w3"] = -1.22,
            ["w4"] = -2.30,
            ["b3"] = 0,
        }, stage.StartingValues);
    }

    [Fact]
    public void Stage_2_trains_the_output_layer_with_the_hidden_layer_fixed()
    {
        var stage = Lesson.Stage(2);

        Assert.Equal(2, stage.Number);
        Assert.Equal(["w3", "w4", "b3"], stage.Trained);
        Assert.Equal(new Dictionary<string, double>
        {
            ["w1"] = 3.34,
            ["b1"] = -1.43,
            ["w2"] = -3.53,
            ["b2"] = 0.57,
            ["w3"] = 0.36,
            ["w4"] = 0.63,
            ["b3"] = 0,
        }, stage.StartingValues);
    }

    [Fact]
    public void Stage_3_trains_all_seven_from_the_starting_values()
    {
        var stage = Lesson.Stage(3);

        Assert.Equal(3, stage.Number);
        Assert.Equal(order, stage.Trained);
        Assert.Equal(new Dictionary<string, double>
        {
            ["w1"] = 2.74,
            ["b1"] = 0,
            ["w2"] = -1.13,
            ["b2"] = 0,
            ["w3"] = 0.36,
            ["w4"] = 0.63,
            ["b3"] = 0,
        }, stage.StartingValues);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(-1)]
    public void Other_stages_do_not_exist(int number)
    {
        var e = Assert.Throws<BackpropException>(() => Lesson.Stage(number));
        Assert.Contains($"no stage {number}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetValues_sets_numbers_by_name_and_rejects_unknown_names()
    {
        var network = Lesson.CreateNetwork<double>();

        Lesson.SetValues(network, Lesson.Stage(1).StartingValues);

        Assert.Equal(-1.43, network.Element("b1").Value);
        Assert.Equal(-2.30, network.Element("w4").Value);
        Assert.Throws<BackpropException>(() => Lesson.SetValues(network, new Dictionary<string, double> { ["w9"] = 1 }));
    }

    [Fact]
    public void Only_a_1_2_1_network_takes_the_lessons_names()
    {
        var network = Sequential<double>.Mlp([1, 3, 1], Activation.SoftPlus);

        Assert.False(Lesson.IsLessonShaped(network));
        var e = Assert.Throws<BackpropException>(() => Lesson.Name(network));
        Assert.Contains("1,2,1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_lesson_network_in_float_predicts_what_it_does_in_double()
    {
        var inputs = Datasets.Dosage;
        var single = Lesson.CreateNetwork<float>().Predict(inputs.InputTensor<float>());
        var twice = Lesson.CreateNetwork<double>().Predict(inputs.InputTensor<double>());

        Assert.Equal(new Shape(3, 1), single.Shape);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(twice[i], single[i], 1e-6);
        }
    }
}
