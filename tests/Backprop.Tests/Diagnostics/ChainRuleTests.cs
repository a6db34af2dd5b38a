using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Scalar;

namespace Backprop.Tests.Diagnostics;

public sealed class ChainRuleTests
{
    private static readonly double[] Inputs = [0.0, 0.5, 1.0];
    private static readonly double[] Observed = [0.0, 1.0, 0.0];

    private static NetworkGraph Lesson121(IReadOnlyDictionary<string, double>? values = null)
    {
        var network = Lesson.CreateNetwork<double>();
        if (values is not null)
        {
            Lesson.SetValues(network, values);
        }
        return NetworkGraph.Build(network, new SumSquaredResiduals(), Inputs, Observed);
    }

    [Fact]
    public void Transcript_of_w1_at_the_starting_values_is_the_lessons_four_terms_with_their_numbers()
    {
        var explanation = ChainRule.Explain(Lesson121(), ["w1"]);

        var w1 = Assert.Single(explanation.Parameters);
        Assert.Equal(ExplanationView.Paths, explanation.View);
        Assert.Equal("dSSR/dw1 = Σ_i dSSR/dPredicted_i · dPredicted_i/dy1,i · dy1,i/dx1,i · dx1,i/dw1", w1.Equation);
        var terms = Assert.Single(w1.Paths).Terms;
        Assert.Equal(["dSSR/dPredicted_i", "dPredicted_i/dy1,i", "dy1,i/dx1,i", "dx1,i/dw1"], terms.Select(t => t.Name));
        Assert.Equal(["−2(Observed_i − Predicted_i)", "w3", "e^x1,i/(1+e^x1,i)", "Input_i"], terms.Select(t => t.Formula));

        // The lesson's closed forms, in plain doubles.
        var (w1v, w3) = (2.74, 0.36);
        double sum = 0;
        for (var i = 0; i < 3; i++)
        {
            var x1 = Inputs[i] * w1v;
            var x2 = Inputs[i] * -1.13;
            var predicted = (Math.Log(1 + Math.Exp(x1)) * w3) + (Math.Log(1 + Math.Exp(x2)) * 0.63);
            double[] expected = [-2 * (Observed[i] - predicted), w3, Math.Exp(x1) / (1 + Math.Exp(x1)), Inputs[i]];
            for (var t = 0; t < 4; t++)
            {
                Assert.Equal(expected[t], terms[t].Values[i], 1e-14);
            }
            var product = expected.Aggregate(1.0, (p, v) => p * v);
            Assert.Equal(product, w1.Paths[0].Products[i], 1e-14);
            Assert.Equal(product, w1.PerPoint[i], 1e-14);
            sum += product;
        }
        Assert.Equal(sum, w1.Sum, 1e-14);
        Assert.Equal(0.7609437196206793, w1.Sum, 1e-12); // computed independently (Python)
        Assert.Equal(w1.Backprop, w1.Sum, 1e-14);
    }

    [Fact]
    public void Every_parameters_sum_is_the_lessons_closed_form_derivative()
    {
        var explanation = ChainRule.Explain(Lesson121());

        double[] golden = [0.7609437196206793, 0.9672858439713442, 0.33227637742329064, 0.7322256677431087, 7.142314400495206, 1.4872805518519527, 3.459454412242783];
        Assert.Equal(Lesson.ParameterNames, explanation.Parameters.Select(p => p.Parameter));
        for (var k = 0; k < 7; k++)
        {
            Assert.Equal(golden[k], explanation.Parameters[k].Sum, 1e-12);
        }
        Assert.Equal(["dSSR/dPredicted_i", "dPredicted_i/db3"], explanation.Parameters[6].Paths[0].Terms.Select(t => t.Name));
        Assert.Equal(["−2(Observed_i − Predicted_i)", "1"], explanation.Parameters[6].Paths[0].Terms.Select(t => t.Formula));
        Assert.Equal("y2,i", explanation.Parameters[5].Paths[0].Terms[1].Formula);
        Assert.Equal("1", explanation.Parameters[1].Paths[0].Terms[3].Formula);
    }

    [Fact]
    public void The_first_term_is_shared_by_all_seven_parameters()
    {
        var shared = ChainRule.Explain(Lesson121(), ["b3"]).Shared;

        Assert.Equal("dSSR/dPredicted_i", shared[0].Name);
        Assert.Equal(Lesson.ParameterNames, shared[0].Parameters);
        Assert.Contains(shared, s => s.Name == "dSSR/dx1,i" && s.Parameters.SequenceEqual(["w1", "b1"]));
    }

    [Fact]
    public void The_recurrence_gives_each_units_gradient_from_the_units_that_use_it()
    {
        var explanation = ChainRule.Explain(Lesson121(), ["w1"], ExplanationView.Recurrence);

        Assert.Equal(["Predicted_i", "y1,i", "y2,i", "x1,i", "x2,i"], explanation.Units.Select(u => u.Unit));
        var y1 = explanation.Units[1];
        Assert.Equal("dSSR/dy1,i = dSSR/dPredicted_i · dPredicted_i/dy1,i", y1.Equation);
        Assert.Equal(["dPredicted_i/dy1,i = w3"], y1.LocalFormulas);
        var predicted = explanation.Units[0];
        for (var i = 0; i < 3; i++)
        {
            var term = Assert.Single(y1.Points[i].Terms);
            Assert.Equal(predicted.Points[i].Gradient, term.Gradient);
            Assert.Equal(0.36, term.Local);
            Assert.Equal(term.Gradient * 0.36, y1.Points[i].Gradient, 1e-15);
        }
        Assert.Equal(["dSSR/dx1,i", "dx1,i/dw1"], explanation.Parameters[0].Paths[0].Terms.Select(t => t.Name));
        Assert.Equal(0.7609437196206793, explanation.Parameters[0].Sum, 1e-12);
    }

    [Fact]
    public void Deep_networks_use_the_recurrence_and_still_sum_to_backprops_gradient()
    {
        var network = Sequential<double>.Mlp([1, 3, 3, 3, 1], Activation.Sigmoid);
        new StandardNormalInitializer(5).Initialize(network);
        var graph = NetworkGraph.Build(network, new SumSquaredResiduals(), Inputs, Observed);

        var explanation = ChainRule.Explain(graph);

        Assert.Equal(ExplanationView.Recurrence, explanation.View); // 9 paths per point reach layer0's weights
        Assert.Equal(network.Elements().Count(), explanation.Parameters.Count);
        Assert.All(explanation.Parameters, p => Assert.Equal(p.Backprop, p.Sum, 1e-12));
        Assert.Equal("dSSR/dlayer1.y[0],i = dSSR/dlayer2.x[0],i · dlayer2.x[0],i/dlayer1.y[0],i + dSSR/dlayer2.x[1],i · dlayer2.x[1],i/dlayer1.y[0],i + dSSR/dlayer2.x[2],i · dlayer2.x[2],i/dlayer1.y[0],i",
            explanation.Units.Single(u => u.Unit == "layer1.y[0],i").Equation);
    }

    [Fact]
    public void A_sum_that_disagrees_with_the_other_engine_fails_loudly()
    {
        var wrong = new Dictionary<string, double> { ["w1"] = 0.75 };

        var e = Assert.Throws<InvalidOperationException>(() => ChainRule.Explain(Lesson121(), ["w1"], expected: wrong));

        Assert.Contains("dSSR/dw1", e.Message, StringComparison.Ordinal);
        Assert.Contains("tensor engine", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_parameters_are_refused_by_name()
    {
        var e = Assert.Throws<BackpropException>(() => ChainRule.Explain(Lesson121(), ["w9"]));

        Assert.Contains("'w9'", e.Message, StringComparison.Ordinal);
        Assert.Contains("w1, b1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Formulas_fold_constants_and_symbols()
    {
        Assert.Equal("−2(Observed_i − Predicted_i)", ChainRule.Formula(-2, ["(Observed_i − Predicted_i)"]));
        Assert.Equal("w3", ChainRule.Formula(1, ["w3"]));
        Assert.Equal("−w3", ChainRule.Formula(-1, ["w3"]));
        Assert.Equal("0.5·w3·y1,i", ChainRule.Formula(0.5, ["w3", "y1,i"]));
        Assert.Equal("1", ChainRule.Formula(1, []));
    }
}
