using Backprop.Data;
using Backprop.Nn;
using Backprop.Scalar;

namespace Backprop.Tests.Scalar;

public sealed class LessonGraphTests
{
    private static readonly double[] DosageInputs = Datasets.Dosage.Inputs.ToArray();
    private static readonly double[] DosageObserved = Datasets.Dosage.Targets.ToArray();

    [Fact]
    public void Ssr_at_the_starting_values_matches_a_hand_computation()
    {
        var graph = LessonGraph.Build();

        // Computed independently (Python, math.log1p) from the lesson's starting values and dosage data.
        Assert.Equal(0.6862157087543458, graph.Predicted[0].Data, 1e-14);
        Assert.Equal(0.8582318099997126, graph.Predicted[1].Data, 1e-14);
        Assert.Equal(1.185279687367333, graph.Predicted[2].Data, 1e-14);
        Assert.Equal(1.8958781559227895, graph.Ssr.Data, 1e-12);

        // And by hand: Predicted_1 = (w3 + w4)·log 2, since both hidden nodes see x = 0.
        Assert.Equal((0.36 + 0.63) * Math.Log(2), graph.Predicted[0].Data, 1e-15);
    }

    [Fact]
    public void Gradients_at_the_starting_values_equal_the_lessons_closed_form()
    {
        var graph = LessonGraph.Build();

        graph.Ssr.Backward();

        var expected = ClosedForm(Lesson.StartingValues, DosageInputs, DosageObserved);
        AssertGradients(expected, graph);

        // The same seven numbers, computed independently (Python), in the order w1 b1 w2 b2 w3 w4 b3.
        double[] golden =
            [0.7609437196206793, 0.9672858439713442, 0.33227637742329064, 0.7322256677431087, 7.142314400495206, 1.4872805518519527, 3.459454412242783];
        AssertGradients(golden, graph);
    }

    [Fact]
    public void Gradients_at_random_points_equal_the_lessons_closed_form()
    {
        var random = new Random(20240601);
        for (var trial = 0; trial < 20; trial++)
        {
            var parameters = Lesson.ParameterNames.ToDictionary(name => name, _ => Uniform(random, -3, 3));
            var count = random.Next(1, 6);
            var inputs = Enumerable.Range(0, count).Select(_ => Uniform(random, -1, 2)).ToArray();
            var observed = Enumerable.Range(0, count).Select(_ => Uniform(random, -1, 1)).ToArray();
            var graph = LessonGraph.Build(parameters, inputs, observed);

            graph.Ssr.Backward();

            AssertGradients(ClosedForm(parameters, inputs, observed), graph);
        }
    }

    [Fact]
    public void The_first_term_dSsr_dPredicted_is_minus_two_times_the_residual()
    {
        var graph = LessonGraph.Build();

        graph.Ssr.Backward();

        for (var k = 0; k < graph.Predicted.Count; k++)
        {
            var residual = DosageObserved[k] - graph.Predicted[k].Data;
            Assert.Equal(-2 * residual, graph.Predicted[k].Grad, 1e-15);
        }
    }

    [Fact]
    public void Nodes_carry_the_lessons_names()
    {
        var graph = LessonGraph.Build();
        var nodes = graph.Ssr.TopologicalOrder().ToDictionary(node => node.Name);

        Assert.Equal("SSR", graph.Ssr.Name);
        Assert.Equal(["w1", "b1", "w2", "b2", "w3", "w4", "b3"], graph.Parameters.Keys);
        Assert.Equal([2.74, 0, -1.13, 0, 0.36, 0.63, 0], graph.Parameters.Values.Select(p => p.Data));
        Assert.All(graph.Parameters, pair => Assert.Equal(pair.Key, pair.Value.Name));
        Assert.All(graph.Parameters.Values, p => Assert.Same(p, nodes[p.Name]));
        Assert.Equal(["Predicted_1", "Predicted_2", "Predicted_3"], graph.Predicted.Select(p => p.Name));
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(DosageInputs[i - 1], nodes[$"Input_{i}"].Data);
            Assert.Equal(DosageObserved[i - 1], nodes[$"Observed_{i}"].Data);
            Assert.Equal(nodes[$"x1,{i}"], Assert.Single(nodes[$"y1,{i}"].Inputs));
            Assert.Equal(nodes[$"x2,{i}"], Assert.Single(nodes[$"y2,{i}"].Inputs));
            Assert.Equal("SoftPlus", nodes[$"y1,{i}"].Op);
            Assert.Same(graph.Predicted[i - 1], nodes[$"Predicted_{i}"]);
        }

        Assert.Equal(0.5 * 2.74, nodes["x1,2"].Data, 1e-15); // x1,2 = Input_2 * w1 + b1
    }

    [Fact]
    public void Build_rejects_missing_or_unknown_parameters_and_mismatched_data()
    {
        var withoutB3 = Lesson.StartingValues.Where(p => p.Key != "b3").ToDictionary();
        var withTypo = Lesson.StartingValues.ToDictionary();
        withTypo["W1"] = 1;

        var missing = Assert.Throws<ArgumentException>(() => LessonGraph.Build(withoutB3, [0.0], [0.0]));
        var unknown = Assert.Throws<ArgumentException>(() => LessonGraph.Build(withTypo, [0.0], [0.0]));
        Assert.Throws<ArgumentException>(() => LessonGraph.Build(Lesson.StartingValues, [0.0, 1.0], [0.0]));

        Assert.Contains("'b3'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("'W1'", unknown.Message, StringComparison.Ordinal);
    }

    // The lesson's chain rule, written out for each parameter (reference/lesson.md), in plain doubles.
    private static double[] ClosedForm(IReadOnlyDictionary<string, double> p, IReadOnlyList<double> inputs, IReadOnlyList<double> observed)
    {
        var (w1, b1, w2, b2, w3, w4, b3) = (p["w1"], p["b1"], p["w2"], p["b2"], p["w3"], p["w4"], p["b3"]);
        var gradient = new double[7];
        for (var i = 0; i < inputs.Count; i++)
        {
            var x1 = (inputs[i] * w1) + b1;
            var x2 = (inputs[i] * w2) + b2;
            var y1 = Math.Log(1 + Math.Exp(x1));
            var y2 = Math.Log(1 + Math.Exp(x2));
            var predicted = (y1 * w3) + (y2 * w4) + b3;
            var dSsrdPredicted = -2 * (observed[i] - predicted);
            var dy1dx1 = Math.Exp(x1) / (1 + Math.Exp(x1));
            var dy2dx2 = Math.Exp(x2) / (1 + Math.Exp(x2));

            gradient[0] += dSsrdPredicted * w3 * dy1dx1 * inputs[i]; // w1
            gradient[1] += dSsrdPredicted * w3 * dy1dx1 * 1; // b1
            gradient[2] += dSsrdPredicted * w4 * dy2dx2 * inputs[i]; // w2
            gradient[3] += dSsrdPredicted * w4 * dy2dx2 * 1; // b2
            gradient[4] += dSsrdPredicted * y1; // w3
            gradient[5] += dSsrdPredicted * y2; // w4
            gradient[6] += dSsrdPredicted * 1; // b3
        }

        return gradient;
    }

    private static void AssertGradients(double[] expected, LessonGraph graph)
    {
        for (var k = 0; k < expected.Length; k++)
        {
            var name = Lesson.ParameterNames[k];
            var actual = graph.Parameters[name].Grad;
            Assert.True(
                Math.Abs(expected[k] - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected[k])),
                $"dSSR/d{name}: expected {expected[k]}, backprop gave {actual}");
        }
    }

    private static double Uniform(Random random, double low, double high) => low + ((high - low) * random.NextDouble());
}
