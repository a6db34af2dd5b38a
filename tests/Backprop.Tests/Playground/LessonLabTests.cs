using Backprop.Data;
using Backprop.Nn;
using Backprop.Playground;
using Backprop.Scalar;

namespace Backprop.Tests.Playground;

public sealed class LessonLabTests
{
    private static readonly string[] Lessons = ["0.7609", "0.9673", "0.3323", "0.7322", "7.1423", "1.4873", "3.4595"];

    [Fact]
    public void At_the_starting_values_it_gives_the_lessons_SSR_and_derivatives()
    {
        var state = LessonLab.Evaluate(Lesson.StartingValues);

        Assert.Equal(1.89588, Math.Round(state.Ssr, 5));
        Assert.Equal(Lessons, Lesson.ParameterNames.Select(n => state.Gradients[n].ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal([0.0, 1.0, 0.0], state.Points.Select(p => p.Observed));
        // The squiggle's points at the data's dosages are the predictions.
        Assert.Equal(state.Points[1].Predicted, state.CurveY[50], 12);
        Assert.Equal(LessonLab.CurvePoints, state.CurveX.Count);
    }

    [Fact]
    public void The_backward_walk_ends_at_the_gradients_backpropagation_computes_and_visits_users_before_what_they_use()
    {
        var steps = LessonLab.Backward(Lesson.StartingValues);
        var graph = LessonGraph.Build();
        graph.Ssr.Backward();

        var totals = steps.Where(s => s.IsParameter).ToDictionary(s => s.Node, s => s.Total);
        Assert.Equal(Lesson.ParameterNames.Order(), totals.Keys.Order());
        foreach (var name in Lesson.ParameterNames)
        {
            Assert.Equal(graph.Parameters[name].Grad, totals[name], 12);
        }
        var order = steps.Select(s => s.Node).ToList();
        Assert.Equal(["SSR", "SquaredResidual_i", "Residual_i", "Predicted_i"], order.Take(4));
        Assert.True(order.IndexOf("y1,i") < order.IndexOf("x1,i") && order.IndexOf("x1,i") < order.IndexOf("w1"));
        // Each step's products are the users' gradients times the local derivatives, and sum to the node's gradient.
        var w1 = steps.Single(s => s.Node == "w1");
        Assert.Equal("Input_i", w1.Formula);
        Assert.All(w1.Terms, t => Assert.Equal(t.ConsumerGradient * t.Local, t.Product));
        Assert.Equal(w1.Total, w1.Terms.Sum(t => t.Product), 12);
        // Every term names its data point, also where the user (the SSR) is shared by all of them.
        Assert.Equal([1, 2, 3], steps.Single(s => s.Node == "SquaredResidual_i").Terms.Select(t => t.Point));
        var y1 = steps.Single(s => s.Node == "y1,i");
        Assert.Equal("w3", y1.Formula);
        Assert.Equal("dPredicted_i/dy1,i", y1.Derivative);
    }

    [Fact]
    public void One_step_is_gradient_descent_on_the_trained_parameters_only()
    {
        var all = LessonLab.Step(Lesson.StartingValues, Lesson.ParameterNames);
        var onlyB3 = LessonLab.Step(Lesson.StartingValues, ["b3"]);

        Assert.Equal(2.66391, Math.Round(all["w1"], 5));
        Assert.Equal(-0.345945, Math.Round(all["b3"], 6));
        Assert.Equal(-0.345945, Math.Round(onlyB3["b3"], 6));
        Assert.All(Lesson.ParameterNames.Where(n => n != "b3"), n => Assert.Equal(Lesson.StartingValues[n], onlyB3[n]));
        Assert.Throws<BackpropException>(() => LessonLab.Step(Lesson.StartingValues, ["w9"]));
    }

    [Fact]
    public void The_surface_is_the_SSR_at_each_grid_point_and_the_path_goes_downhill()
    {
        var surface = LessonLab.Surface(Lesson.StartingValues, "w3", "w4", (-2, 2), (-1, 3), side: 5, learningRate: 0.01, pathSteps: 300);

        // Row 1 is w4 = 0, column 3 is w3 = 1.
        var values = new Dictionary<string, double>(Lesson.StartingValues) { ["w3"] = 1, ["w4"] = 0 };
        var graph = LessonGraph.Build(values, Datasets.Dosage.Inputs.ToArray(), Datasets.Dosage.Targets.ToArray());
        Assert.Equal(graph.Ssr.Data, surface.Ssr[(1 * 5) + 3], 12);
        Assert.Equal([0.36, 0.63], surface.Path[0]);
        double Ssr(double[] p) => LessonGraph.Build(new Dictionary<string, double>(Lesson.StartingValues) { ["w3"] = p[0], ["w4"] = p[1] },
            Datasets.Dosage.Inputs.ToArray(), Datasets.Dosage.Targets.ToArray()).Ssr.Data;
        Assert.True(Ssr(surface.Path[^1]) < Ssr(surface.Path[0]) / 2);
    }

    [Theory]
    [InlineData("w3", "w3", "The surface needs two different parameters of w1 b1 w2 b2 w3 w4 b3; got 'w3' and 'w3'.")]
    [InlineData("w3", "q", "The surface needs two different parameters of w1 b1 w2 b2 w3 w4 b3; got 'w3' and 'q'.")]
    public void A_surface_over_anything_but_two_parameters_is_refused(string x, string y, string message)
    {
        var e = Assert.Throws<BackpropException>(() => LessonLab.Surface(Lesson.StartingValues, x, y, (0, 1), (0, 1)));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Values_must_be_the_seven_parameters_and_finite()
    {
        var missing = new Dictionary<string, double>(Lesson.StartingValues);
        missing.Remove("b2");
        var extra = new Dictionary<string, double>(Lesson.StartingValues) { ["w9"] = 1 };
        var nan = new Dictionary<string, double>(Lesson.StartingValues) { ["w4"] = double.NaN };

        Assert.Equal("The lesson's network needs a value for b2.", Assert.Throws<BackpropException>(() => LessonLab.Evaluate(missing)).Message);
        Assert.Equal("The lesson's network has no parameter 'w9'; it has w1 b1 w2 b2 w3 w4 b3.", Assert.Throws<BackpropException>(() => LessonLab.Evaluate(extra)).Message);
        Assert.Equal("w4 must be a finite number between -1e6 and 1e6.", Assert.Throws<BackpropException>(() => LessonLab.Evaluate(nan)).Message);
    }
}
