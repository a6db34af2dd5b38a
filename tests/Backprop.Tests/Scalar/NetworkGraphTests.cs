using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Scalar;

namespace Backprop.Tests.Scalar;

public sealed class NetworkGraphTests
{
    private static readonly double[] DosageInputs = Datasets.Dosage.Inputs.ToArray();
    private static readonly double[] DosageObserved = Datasets.Dosage.Targets.ToArray();

    [Fact]
    public void The_lessons_network_is_built_node_for_node_like_LessonGraph()
    {
        var built = NetworkGraph.Build(Lesson.CreateNetwork<double>(), new SumSquaredResiduals(), DosageInputs, DosageObserved);
        var lesson = LessonGraph.Build();
        built.Loss.Backward();
        lesson.Ssr.Backward();

        var a = built.Loss.TopologicalOrder();
        var b = lesson.Ssr.TopologicalOrder();
        Assert.Equal(b.Select(n => n.Name), a.Select(n => n.Name));
        Assert.Equal(b.Select(n => n.Op), a.Select(n => n.Op));
        Assert.Equal(b.Select(n => n.Data), a.Select(n => n.Data));
        Assert.Equal(b.Select(n => n.Grad), a.Select(n => n.Grad));
        Assert.Equal(["w1", "b1", "w2", "b2", "w3", "w4", "b3"], built.Parameters.Keys);
    }

    [Fact]
    public void Units_and_templates_name_the_data_point_i()
    {
        var graph = NetworkGraph.Build(Lesson.CreateNetwork<double>(), new SumSquaredResiduals(), DosageInputs, DosageObserved);
        var nodes = graph.Loss.TopologicalOrder().ToDictionary(n => n.Name);

        Assert.Equal(15, graph.Units.Count); // x1, y1, x2, y2, Predicted for 3 points
        Assert.True(graph.IsUnit(nodes["y1,2"]));
        Assert.False(graph.IsUnit(nodes["Residual_2"]));
        Assert.True(graph.TryGetTemplate(nodes["x2,3"], out var template, out var point));
        Assert.Equal(("x2,i", 3), (template, point));
        Assert.Equal("Residual_i", graph.Template(nodes["Residual_1"]));
        Assert.Equal("w1", graph.Template(nodes["w1"]));
        Assert.False(graph.TryGetTemplate(nodes["SSR"], out _, out _));
    }

    [Fact]
    public void Deeper_networks_name_units_by_layer_and_match_the_tensor_engine()
    {
        var network = Sequential<double>.Mlp([2, 3, 2], Activation.Tanh);
        new StandardNormalInitializer(7).Initialize(network);
        double[] x = [0.5, -1, 2, 0.25];
        double[] y = [1, 0, -1, 0.5];
        var graph = NetworkGraph.Build(network, new MeanSquaredError(), x, y);
        graph.Loss.Backward();

        var names = graph.Loss.TopologicalOrder().Select(n => n.Name).ToHashSet();
        Assert.Contains("layer0.x[2],2", names);
        Assert.Contains("layer0.y[2],2", names);
        Assert.Contains("Predicted[1]_1", names);
        Assert.Contains("Input[1]_2", names);
        Assert.Equal("MSE", graph.Loss.Name);

        var xt = Backprop.Tensors.Tensor<double>.FromArray(x, 2, 2);
        var yt = Backprop.Tensors.Tensor<double>.FromArray(y, 2, 2);
        var loss = new MeanSquaredError().Compute(network.Forward(xt), yt);
        loss.Backward();
        Assert.Equal(loss.Item(), graph.Loss.Data, 1e-14);
        foreach (var e in network.Elements())
        {
            Assert.Equal(e.Gradient, graph.Parameters[e.Name].Grad, 1e-13);
        }
    }

    [Fact]
    public void Cross_entropy_matches_the_tensor_engine()
    {
        var network = Sequential<double>.Mlp([1, 3, 3], Activation.Relu);
        new StandardNormalInitializer(3).Initialize(network);
        double[] x = [0.1, 0.7, -0.4];
        double[] classes = [2, 0, 1];
        var graph = NetworkGraph.Build(network, new CrossEntropy(), x, classes);
        graph.Loss.Backward();

        var loss = new CrossEntropy().Compute(network.Forward(Backprop.Tensors.Tensor<double>.FromArray(x, 3, 1)), Backprop.Tensors.Tensor<double>.FromArray(classes, 3, 1));
        loss.Backward();
        Assert.Equal(loss.Item(), graph.Loss.Data, 1e-14);
        foreach (var e in network.Elements())
        {
            Assert.Equal(e.Gradient, graph.Parameters[e.Name].Grad, 1e-13);
        }
    }

    [Fact]
    public void Bad_data_and_unsupported_networks_are_refused_with_a_message()
    {
        var network = Lesson.CreateNetwork<double>();
        var rows = Assert.Throws<BackpropException>(() => NetworkGraph.Build(network, new SumSquaredResiduals(), [0.0, 1.0], [0.0]));
        Assert.Contains("need 2 observed values; there are 1", rows.Message, StringComparison.Ordinal);
        var notDense = new Sequential<double>(new Dense<double>(1, 1), new ActivationLayer<double>(Activation.Relu));
        var layer = Assert.Throws<BackpropException>(() => NetworkGraph.Build(notDense, new SumSquaredResiduals(), [0.0], [0.0]));
        Assert.Contains("Dense layers only", layer.Message, StringComparison.Ordinal);
        var badClass = Assert.Throws<BackpropException>(() => NetworkGraph.Build(Sequential<double>.Mlp([1, 2], Activation.Identity), new CrossEntropy(), [0.0], [5.0]));
        Assert.Contains("not a class index from 0 to 1", badClass.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_derivative_formulas_name_the_inputs()
    {
        var a = new Value(3, "a");
        var b = new Value(-2, "b");

        Assert.Equal((1.0, "b"), (a * b).LocalGradientFormula(0, v => v.Name));
        Assert.Equal((4.0, ""), (a * 4.0).LocalGradientFormula(0, v => v.Name)); // an unnamed constant is a number
        Assert.Equal((-1.0, ""), a.Subtract(b).LocalGradientFormula(1, v => v.Name));
        Assert.Equal((2.0, "a"), a.Square().LocalGradientFormula(0, v => v.Name));
        Assert.Equal((1.0, "e^a/(1+e^a)"), a.SoftPlus().LocalGradientFormula(0, v => v.Name));
        Assert.Equal("a − b", a.Subtract(b).Definition(v => v.Name));
        Assert.True(a.IsNamed);
        Assert.False((a + b).IsNamed);
        Assert.True(a.Add(b, "c").IsNamed);
    }
}
