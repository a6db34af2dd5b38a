using Backprop.Autograd;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Scalar;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Playground;

/// <summary>
/// The lesson's network (reference/lesson.md) at any seven parameter values, computed by the engine for
/// the page: the squiggle, the SSR, every dSSR/dparameter, each node's value, a gradient-descent step,
/// the backward pass node by node and the loss surface over two parameters.
/// </summary>
public static class LessonLab
{
    /// <summary>Points on the squiggle drawn over the dosage range 0 … 1.</summary>
    public const int CurvePoints = 101;

    /// <summary>The most cells a side of the loss surface may have.</summary>
    public const int MaxSurfaceSide = 81;

    /// <summary>The most gradient-descent steps a surface's path may take.</summary>
    public const int MaxPathSteps = 2000;

    /// <summary>Checks that <paramref name="values"/> holds a finite number for each of w1 … b3, and nothing else.</summary>
    /// <exception cref="BackpropException">A parameter is missing, unknown or not finite.</exception>
    public static void CheckValues(IReadOnlyDictionary<string, double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var name in Lesson.ParameterNames)
        {
            if (!values.TryGetValue(name, out var v))
            {
                throw new BackpropException($"The lesson's network needs a value for {name}.");
            }
            if (!double.IsFinite(v) || Math.Abs(v) > 1e6)
            {
                throw new BackpropException($"{name} must be a finite number between -1e6 and 1e6.");
            }
        }
        foreach (var name in values.Keys)
        {
            if (!Lesson.ParameterNames.Contains(name))
            {
                throw new BackpropException($"The lesson's network has no parameter '{name}'; it has w1 b1 w2 b2 w3 w4 b3.");
            }
        }
    }

    /// <summary>
    /// The network at <paramref name="values"/> on the dosage data: SSR, the seven derivatives (the
    /// scalar engine's backward pass), each data point's node values, and the squiggle (the tensor engine's forward pass).
    /// </summary>
    public static LessonState Evaluate(IReadOnlyDictionary<string, double> values)
    {
        CheckValues(values);
        var graph = BuildGraph(values);
        graph.Loss.Backward();
        var byName = graph.Loss.TopologicalOrder().Where(v => v.IsNamed).ToDictionary(v => v.Name);
        var points = new List<LessonPoint>();
        var dosage = Datasets.Dosage;
        for (var i = 1; i <= dosage.Count; i++)
        {
            points.Add(new LessonPoint(
                byName[$"Input_{i}"].Data, dosage.Targets[i - 1],
                byName[$"x1,{i}"].Data, byName[$"y1,{i}"].Data,
                byName[$"x2,{i}"].Data, byName[$"y2,{i}"].Data,
                byName[$"Predicted_{i}"].Data));
        }
        var network = Network(values);
        var xs = new double[CurvePoints];
        for (var k = 0; k < CurvePoints; k++)
        {
            xs[k] = (double)k / (CurvePoints - 1);
        }
        using (GradMode.NoGrad())
        {
            var ys = network.Forward(Tensor<double>.FromArray(xs, CurvePoints, 1)).Data.ToArray();
            return new LessonState(
                Ordered(values),
                graph.Loss.Data,
                Lesson.ParameterNames.ToDictionary(n => n, n => graph.Parameters[n].Grad),
                points,
                xs,
                ys);
        }
    }

    /// <summary>
    /// One gradient-descent step (the lesson's learning rate unless given) of the parameters in
    /// <paramref name="trained"/>, by the tensor engine's <see cref="Trainer{T}"/>; the values after it.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Step(IReadOnlyDictionary<string, double> values, IReadOnlyCollection<string> trained, double learningRate = Lesson.LearningRate, int steps = 1)
        => Train(values, trained, learningRate, steps, minStepSize: null).Values;

    /// <summary>
    /// Up to <paramref name="steps"/> gradient-descent steps, stopping early, as the lesson does, once every
    /// step size is below <paramref name="minStepSize"/>: the values after them, the steps taken and whether that rule stopped them.
    /// </summary>
    public static (IReadOnlyDictionary<string, double> Values, int Steps, bool Converged) Train(IReadOnlyDictionary<string, double> values, IReadOnlyCollection<string> trained,
        double learningRate, int steps, double? minStepSize)
    {
        CheckValues(values);
        CheckTrained(trained);
        if (!double.IsFinite(learningRate) || learningRate <= 0 || learningRate > 10)
        {
            throw new BackpropException("The learning rate must be a number above 0 and at most 10.");
        }
        var network = Network(values);
        network.TrainOnly(trained);
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), learningRate));
        var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = steps, MinStepSize = minStepSize });
        return (Ordered(Lesson.ParameterNames.ToDictionary(n => n, n => network.Element(n).Value)), result.Steps, result.StopReason == StopReason.StepSizeBelowThreshold);
    }

    /// <summary>
    /// The backward pass as the lesson walks it: named nodes from the SSR back to the parameters, a
    /// node only after every node that uses it, each data point's node together. Each step gives the
    /// local derivative of each node that uses it (formula and value) and the chain-rule product so far
    /// (the node's gradient); a parameter's gradient is the sum over the data points.
    /// </summary>
    public static IReadOnlyList<BackwardStep> Backward(IReadOnlyDictionary<string, double> values)
    {
        CheckValues(values);
        var graph = BuildGraph(values);
        graph.Loss.Backward();
        var order = graph.Loss.TopologicalOrder();
        // Who uses each node: skipping unnamed helper nodes (Input_i·w1, y1,i·w3), whose local
        // derivatives multiply into the named node's.
        var consumers = new Dictionary<Value, List<(Value Consumer, double Local, double Coefficient, string Factor)>>();
        string Label(Value v) => graph.Template(v);
        foreach (var node in order)
        {
            if (!node.IsNamed)
            {
                continue;
            }
            // Walk down from a named node through unnamed nodes to the named nodes it is made from.
            var stack = new Stack<(Value Node, double Local, double Coefficient, string Factor)>();
            stack.Push((node, 1, 1, ""));
            while (stack.Count > 0)
            {
                var (current, local, coefficient, factor) = stack.Pop();
                for (var j = 0; j < current.Inputs.Count; j++)
                {
                    var input = current.Inputs[j];
                    var (c, f) = current.LocalGradientFormula(j, Label);
                    var entry = (Local: local * current.LocalGradients[j], Coefficient: coefficient * c, Factor: Join(factor, f));
                    if (input.IsNamed)
                    {
                        if (!consumers.TryGetValue(input, out var list))
                        {
                            consumers[input] = list = [];
                        }
                        list.Add((node, entry.Local, entry.Coefficient, entry.Factor));
                    }
                    else if (input.Op != "")
                    {
                        stack.Push((input, entry.Local, entry.Coefficient, entry.Factor));
                    }
                }
            }
        }

        // Depth: the longest chain of named nodes from the SSR, so every user of a node comes before it.
        var depth = new Dictionary<Value, int> { [graph.Loss] = 0 };
        for (var k = order.Count - 1; k >= 0; k--)
        {
            var node = order[k];
            if (node.IsNamed && consumers.TryGetValue(node, out var users))
            {
                depth[node] = users.Max(u => depth[u.Consumer]) + 1;
            }
        }
        var parameters = graph.Parameters.Values.ToHashSet();
        var groups = depth.Keys
            .Where(n => n != graph.Loss && !IsData(n))
            .GroupBy(n => graph.Template(n))
            .Select(g => (Template: g.Key, Nodes: g.OrderBy(n => Point(graph, n)).ToList()))
            .OrderBy(g => depth[g.Nodes[0]])
            .ThenBy(g => parameters.Contains(g.Nodes[0]) ? 1 : 0)
            .ThenBy(g => parameters.Contains(g.Nodes[0]) ? Lesson.ParameterNames.ToList().IndexOf(g.Template) : 0)
            .ToList();

        var steps = new List<BackwardStep>
        {
            new("SSR", false, "dSSR/dSSR", "1", [new BackwardTerm(0, "SSR", 1, 1, 1)], 1),
        };
        foreach (var (template, nodes) in groups)
        {
            var isParameter = parameters.Contains(nodes[0]);
            var terms = new List<BackwardTerm>();
            string? formula = null;
            string? consumer = null;
            foreach (var node in nodes)
            {
                foreach (var (user, local, coefficient, factor) in consumers[node])
                {
                    // The data point is the user's, or, for a user shared by all of them (the SSR), the node's own.
                    var point = graph.TryGetTemplate(user, out _, out var p) && p != 0 ? p : Point(graph, node);
                    consumer ??= graph.Template(user);
                    formula ??= FormatFormula(coefficient, factor);
                    terms.Add(new BackwardTerm(point, user.Name, user.Grad, local, user.Grad * local));
                }
            }
            var total = isParameter ? nodes[0].Grad : double.NaN;
            steps.Add(new BackwardStep(template, isParameter, $"d{consumer}/d{template}", formula!, terms,
                isParameter ? total : nodes.Count == 1 ? nodes[0].Grad : double.NaN)
            {
                Gradients = [.. nodes.Select(n => n.Grad)],
            });
        }
        return steps;
    }

    /// <summary>
    /// The SSR over a grid of two parameters (the others held at <paramref name="values"/>), and the
    /// path gradient descent takes across it training those two alone.
    /// </summary>
    public static LossSurface Surface(IReadOnlyDictionary<string, double> values, string xName, string yName,
        (double Low, double High) xRange, (double Low, double High) yRange, int side = 41, double learningRate = Lesson.LearningRate, int pathSteps = 500)
    {
        CheckValues(values);
        if (!Lesson.ParameterNames.Contains(xName) || !Lesson.ParameterNames.Contains(yName) || xName == yName)
        {
            throw new BackpropException($"The surface needs two different parameters of w1 b1 w2 b2 w3 w4 b3; got '{xName}' and '{yName}'.");
        }
        CheckRange(xName, xRange);
        CheckRange(yName, yRange);
        if (side is < 2 or > MaxSurfaceSide)
        {
            throw new BackpropException($"The surface's grid must have 2 to {MaxSurfaceSide} cells a side.");
        }
        if (pathSteps is < 0 or > MaxPathSteps)
        {
            throw new BackpropException($"The path may take 0 to {MaxPathSteps} steps.");
        }
        if (!double.IsFinite(learningRate) || learningRate <= 0 || learningRate > 10)
        {
            throw new BackpropException("The learning rate must be a number above 0 and at most 10.");
        }
        var network = Network(values);
        var x = network.Element(xName);
        var y = network.Element(yName);
        var inputs = Datasets.Dosage.InputTensor<double>();
        var targets = Datasets.Dosage.TargetTensor<double>();
        var loss = new SumSquaredResiduals();
        var grid = new double[side * side];
        using (GradMode.NoGrad())
        {
            for (var r = 0; r < side; r++)
            {
                y.Parameter.Data[y.Index] = yRange.Low + ((yRange.High - yRange.Low) * r / (side - 1));
                for (var c = 0; c < side; c++)
                {
                    x.Parameter.Data[x.Index] = xRange.Low + ((xRange.High - xRange.Low) * c / (side - 1));
                    grid[(r * side) + c] = loss.Compute(network.Forward(inputs), targets).Item();
                }
            }
        }

        Lesson.SetValues(network, values);
        network.TrainOnly([xName, yName]);
        var path = new List<double[]> { new[] { values[xName], values[yName] } };
        var trainer = new Trainer<double>(network, loss, new GradientDescent<double>(network.Parameters(), learningRate));
        trainer.Fit(inputs, targets, new TrainingOptions { MaxSteps = Math.Max(pathSteps, 1), MinStepSize = Lesson.MinStepSize },
            pathSteps == 0 ? null : _ => path.Add([network.Element(xName).Value, network.Element(yName).Value]));
        return new LossSurface(xName, yName, [xRange.Low, xRange.High], [yRange.Low, yRange.High], side, grid, pathSteps == 0 ? [path[0]] : path);
    }

    /// <summary>The lesson's network (tensor engine, double) at <paramref name="values"/>.</summary>
    public static Sequential<double> Network(IReadOnlyDictionary<string, double> values)
    {
        var network = Lesson.CreateNetwork<double>();
        Lesson.SetValues(network, values);
        return network;
    }

    private static NetworkGraph BuildGraph(IReadOnlyDictionary<string, double> values) =>
        NetworkGraph.Build(Network(values), new SumSquaredResiduals(), Datasets.Dosage.Inputs.ToArray(), Datasets.Dosage.Targets.ToArray());

    private static void CheckTrained(IReadOnlyCollection<string> trained)
    {
        ArgumentNullException.ThrowIfNull(trained);
        if (trained.Count == 0 || trained.Any(n => !Lesson.ParameterNames.Contains(n)))
        {
            throw new BackpropException("Train one or more of w1 b1 w2 b2 w3 w4 b3.");
        }
    }

    private static void CheckRange(string name, (double Low, double High) range)
    {
        if (!double.IsFinite(range.Low) || !double.IsFinite(range.High) || range.Low >= range.High || range.High - range.Low > 1e4)
        {
            throw new BackpropException($"The range of {name} must be two finite numbers, low below high, at most 10000 apart.");
        }
    }

    private static bool IsData(Value node) => node.Op == "" && (node.Name.StartsWith("Input", StringComparison.Ordinal) || node.Name.StartsWith("Observed", StringComparison.Ordinal));

    private static int Point(NetworkGraph graph, Value node) => graph.TryGetTemplate(node, out _, out var point) ? point : 0;

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : $"{a}·{b}";

    private static string FormatFormula(double coefficient, string factor) => (coefficient, factor) switch
    {
        (_, "") => Number(coefficient),
        (1, _) => factor,
        (-1, _) => $"−{factor}",
        _ => $"{Number(coefficient)}·{factor}",
    };

    private static string Number(double x) => NumberText.Typeset(x);

    private static Dictionary<string, double> Ordered(IReadOnlyDictionary<string, double> values) =>
        Lesson.ParameterNames.ToDictionary(n => n, n => values[n]);
}

/// <summary>One data point's nodes in the lesson's network.</summary>
public sealed record LessonPoint(double Input, double Observed, double X1, double Y1, double X2, double Y2, double Predicted);

/// <summary>The lesson's network at some parameter values: what the page draws.</summary>
/// <param name="Values">w1 … b3.</param>
/// <param name="Ssr">The sum of squared residuals.</param>
/// <param name="Gradients">dSSR/dparameter for each of the seven.</param>
/// <param name="Points">Each data point's node values.</param>
/// <param name="CurveX">Dosages from 0 to 1.</param>
/// <param name="CurveY">The network's output at each (the squiggle).</param>
public sealed record LessonState(IReadOnlyDictionary<string, double> Values, double Ssr, IReadOnlyDictionary<string, double> Gradients,
    IReadOnlyList<LessonPoint> Points, IReadOnlyList<double> CurveX, IReadOnlyList<double> CurveY);

/// <summary>One factor of the chain rule at one data point: the user's gradient × its local derivative.</summary>
/// <param name="Point">The data point (from 1), 0 for none.</param>
/// <param name="Consumer">The node that uses this one.</param>
/// <param name="ConsumerGradient">dSSR/d(consumer), already complete.</param>
/// <param name="Local">d(consumer)/d(node).</param>
/// <param name="Product">Their product: this path's share of dSSR/d(node).</param>
public sealed record BackwardTerm(int Point, string Consumer, double ConsumerGradient, double Local, double Product);

/// <summary>One step of the backward pass: a node (every data point's copy at once) and the chain rule that gives its gradient.</summary>
/// <param name="Node">The node's name with the data point written as i (<c>y1,i</c>), or a parameter's name.</param>
/// <param name="IsParameter">Whether the node is one of w1 … b3 (its gradient sums over the data points).</param>
/// <param name="Derivative">The local derivative's name, e.g. <c>dPredicted_i/dy1,i</c>.</param>
/// <param name="Formula">Its formula, e.g. <c>w3</c>.</param>
/// <param name="Terms">Each data point's factor and product.</param>
/// <param name="Total">A parameter's gradient (the sum of the products); NaN for a node per data point.</param>
public sealed record BackwardStep(string Node, bool IsParameter, string Derivative, string Formula, IReadOnlyList<BackwardTerm> Terms, double Total)
{
    /// <summary>dSSR/d(node) for each data point's copy (one number for a parameter or the SSR).</summary>
    public IReadOnlyList<double> Gradients { get; init; } = [Total];
}

/// <summary>The SSR over a grid of two parameters and gradient descent's path across it.</summary>
/// <param name="X">The parameter along the horizontal axis.</param>
/// <param name="Y">The parameter along the vertical axis.</param>
/// <param name="XRange">Low and high of X.</param>
/// <param name="YRange">Low and high of Y.</param>
/// <param name="Side">Cells a side.</param>
/// <param name="Ssr">Row by row from the lowest Y, each row from the lowest X.</param>
/// <param name="Path">(x, y) after each step, starting at the current values.</param>
public sealed record LossSurface(string X, string Y, IReadOnlyList<double> XRange, IReadOnlyList<double> YRange, int Side, IReadOnlyList<double> Ssr, IReadOnlyList<double[]> Path);
