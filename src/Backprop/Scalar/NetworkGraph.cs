using System.Globalization;
using Backprop.Losses;
using Backprop.Nn;

namespace Backprop.Scalar;

/// <summary>
/// A network of <see cref="Dense{T}"/> layers and its loss on some data, built out of named
/// <see cref="Value"/>s: the readable copy of the tensor engine's computation, one number per node.
/// </summary>
/// <remarks>
/// <para>
/// The lesson's 1-2-1 network gets the lesson's names (Input_i, x1,i, y1,i, x2,i, y2,i, Predicted_i,
/// Observed_i, Residual_i, SquaredResidual_i, SSR; parameters w1 … b3). Other networks name the
/// weighted sum of unit j of layer l <c>layer{l}.x[j],i</c>, its activation <c>layer{l}.y[j],i</c>,
/// and their parameters as the network does (<c>layer0.weight[0,1]</c>). Data points count from 1.
/// </para>
/// <para>
/// The network's units — each weighted sum, each activation and each output, for each data point — are
/// its <em>units</em>: the nodes the chain-rule transcript stops at. Every node that belongs to a data
/// point also has a <em>template</em>, its name with the data point written as <c>i</c>.
/// </para>
/// </remarks>
public sealed class NetworkGraph
{
    private readonly Dictionary<Value, (string Template, int Point)> perPoint = [];
    private readonly HashSet<Value> units = [];
    private readonly List<Value> unitOrder = [];
    private readonly Dictionary<Value, (int Depth, int Index)> unitPlace = [];

    private NetworkGraph(Value loss, int points)
    {
        Loss = loss;
        PointCount = points;
    }

    /// <summary>The loss (named SSR, MSE or CrossEntropy): call <see cref="Value.Backward"/> on it.</summary>
    public Value Loss { get; private set; }

    /// <summary>The number of data points.</summary>
    public int PointCount { get; }

    /// <summary>Every parameter leaf by its name, in the lesson's order for the lesson's network, else in <see cref="Module{T}.Elements"/> order.</summary>
    public IReadOnlyDictionary<string, Value> Parameters => parameters;

    private readonly OrderedDictionary<string, Value> parameters = [];

    /// <summary>The network's outputs (Predicted) for each data point, row by row.</summary>
    public IReadOnlyList<Value> Outputs => outputs;

    private readonly List<Value> outputs = [];

    /// <summary>The units (weighted sums, activations, outputs) in the order they were computed, data point by data point.</summary>
    public IReadOnlyList<Value> Units => unitOrder;

    /// <summary>
    /// Where a unit sits: its depth (2l for the weighted sums of layer l, 2l + 1 for their activations)
    /// and its index in the layer.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="node"/> is not a unit.</exception>
    public (int Depth, int Index) PlaceOf(Value node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return unitPlace.TryGetValue(node, out var place) ? place : throw new ArgumentException($"{node.Name} is not a unit of the network.", nameof(node));
    }

    /// <summary>Whether <paramref name="node"/> is one of the network's units.</summary>
    public bool IsUnit(Value node) => units.Contains(node);

    /// <summary>
    /// The node's name with its data point written as <c>i</c> (<c>x1,i</c>, <c>Predicted_i</c>) and the
    /// data point (from 1), or false for a node that belongs to no data point (a parameter, the loss).
    /// </summary>
    public bool TryGetTemplate(Value node, out string template, out int point)
    {
        if (perPoint.TryGetValue(node, out var t))
        {
            (template, point) = t;
            return true;
        }
        (template, point) = ("", 0);
        return false;
    }

    /// <summary>The node's name with its data point written as <c>i</c>, or its name when it belongs to no data point.</summary>
    public string Template(Value node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return TryGetTemplate(node, out var t, out _) ? t : node.Name;
    }

    /// <summary>
    /// Builds the network's computation on every row of the data, and the loss, from the network's
    /// current parameter values.
    /// </summary>
    /// <param name="network">A <see cref="Sequential{T}"/> of <see cref="Dense{T}"/> layers.</param>
    /// <param name="loss">SSR, MSE or cross-entropy.</param>
    /// <param name="inputs">The inputs, row-major [rows, inputs].</param>
    /// <param name="targets">The observed values, row-major [rows, outputs], or one class index per row for cross-entropy.</param>
    /// <param name="firstPoint">The number of the first row's data point (1 unless the rows are a slice of larger data).</param>
    /// <exception cref="BackpropException">The network or loss has no scalar form, or the data does not fit the network.</exception>
    public static NetworkGraph Build(Sequential<double> network, Loss loss, IReadOnlyList<double> inputs, IReadOnlyList<double> targets, int firstPoint = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(firstPoint);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        var layers = network.Layers.Select(l => l as Dense<double>
            ?? throw new BackpropException($"The scalar view supports networks of Dense layers only; this one has {l.Describe()}.")).ToArray();
        var inputCount = layers[0].Inputs;
        if (inputs.Count == 0 || inputs.Count % inputCount != 0)
        {
            throw new BackpropException($"The network takes {inputCount} inputs per row; {inputs.Count} input values do not make whole rows.");
        }
        var rows = inputs.Count / inputCount;
        var lesson = Lesson.IsLessonShaped(network) && network.Elements().Select(e => e.Name).Order(StringComparer.Ordinal)
            .SequenceEqual(Lesson.ParameterNames.Order(StringComparer.Ordinal));
        var graph = new NetworkGraph(new Value(0), rows);
        var leaves = new List<Value[]>();
        foreach (var layer in layers)
        {
            leaves.Add(Leaves(graph, layer.Weight));
            leaves.Add(Leaves(graph, layer.Bias));
        }

        if (lesson)
        {
            // The lesson's order, w1 b1 w2 b2 w3 w4 b3, rather than storage order (w1 w2 b1 b2 …).
            var byName = graph.parameters.ToDictionary();
            graph.parameters.Clear();
            foreach (var name in Lesson.ParameterNames)
            {
                graph.parameters.Add(name, byName[name]);
            }
        }

        var outputCount = layers[^1].Outputs;
        var predicted = new Value[rows][];
        for (var r = 0; r < rows; r++)
        {
            var point = r + firstPoint;
            var a = new Value[inputCount];
            for (var k = 0; k < inputCount; k++)
            {
                a[k] = graph.Leaf(inputs[(r * inputCount) + k], inputCount == 1 ? "Input_" : $"Input[{k}]_", point);
            }
            for (var l = 0; l < layers.Length; l++)
            {
                var layer = layers[l];
                var (weight, bias) = (leaves[2 * l], leaves[(2 * l) + 1]);
                var last = l == layers.Length - 1;
                var next = new Value[layer.Outputs];
                for (var j = 0; j < layer.Outputs; j++)
                {
                    var products = new Value[layer.Inputs];
                    for (var k = 0; k < layer.Inputs; k++)
                    {
                        products[k] = a[k] * weight[(k * layer.Outputs) + j];
                    }
                    var output = last ? (outputCount == 1 ? "Predicted_" : $"Predicted[{j}]_") : null;
                    var sumName = layer.Activation == Activation.Identity && output is not null
                        ? output
                        : lesson ? $"x{j + 1}," : $"layer{l}.x[{j}],";
                    var x = layer.Inputs == 1
                        ? products[0].Add(bias[j], sumName + point)
                        : Value.Sum([.. products, bias[j]], sumName + point);
                    graph.Unit(x, sumName, point, 2 * l, j);
                    if (layer.Activation == Activation.Identity)
                    {
                        next[j] = x;
                        continue;
                    }
                    var yName = output ?? (lesson ? $"y{j + 1}," : $"layer{l}.y[{j}],");
                    next[j] = graph.Unit(layer.Activation.Apply(x, yName + point), yName, point, (2 * l) + 1, j);
                }
                a = next;
            }
            predicted[r] = a;
            graph.outputs.AddRange(a);
        }

        graph.Loss = loss switch
        {
            SumSquaredResiduals => graph.SquaredResiduals(predicted, targets, "SSR"),
            MeanSquaredError => graph.SquaredResiduals(predicted, targets, "SSR")
                .Multiply(new Value(1.0 / (rows * outputCount), $"1/{rows * outputCount}"), "MSE"),
            Losses.CrossEntropy => graph.CrossEntropyLoss(predicted, targets),
            _ => throw new BackpropException($"The scalar view has no form of the {loss.DisplayName} loss."),
        };
        return graph;
    }

    private static Value[] Leaves(NetworkGraph graph, Parameter<double> parameter)
    {
        var leaves = new Value[parameter.Length];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = new Value(parameter.Data[i], parameter.ElementNames[i]);
            graph.parameters.Add(leaves[i].Name, leaves[i]);
        }
        return leaves;
    }

    private Value Leaf(double data, string prefix, int point) => Named(new Value(data, prefix + point), prefix, point);

    private Value Named(Value node, string prefix, int point)
    {
        perPoint[node] = (prefix + "i", point);
        return node;
    }

    private Value Unit(Value node, string prefix, int point, int depth, int index)
    {
        Named(node, prefix, point);
        unitPlace[node] = (depth, index);
        if (units.Add(node))
        {
            unitOrder.Add(node);
        }
        return node;
    }

    // SSR = Σ (Observed − Predicted)²; dSSR/dPredicted = −2(Observed − Predicted).
    private Value SquaredResiduals(Value[][] predicted, IReadOnlyList<double> targets, string name)
    {
        var outputs = predicted[0].Length;
        if (targets.Count != predicted.Length * outputs)
        {
            throw new BackpropException($"{predicted.Length} rows of {outputs} output{(outputs == 1 ? "" : "s")} need {predicted.Length * outputs} observed values; there are {targets.Count}.");
        }
        var squares = new List<Value>();
        for (var r = 0; r < predicted.Length; r++)
        {
            for (var j = 0; j < outputs; j++)
            {
                var suffix = outputs == 1 ? "_" : $"[{j}]_";
                var point = PointOf(predicted[r][j]);
                var observed = Leaf(targets[(r * outputs) + j], "Observed" + suffix, point);
                var residual = Named(observed.Subtract(predicted[r][j], $"Residual{suffix}{point}"), "Residual" + suffix, point);
                squares.Add(Named(residual.Square($"SquaredResidual{suffix}{point}"), "SquaredResidual" + suffix, point));
            }
        }
        return Value.Sum(squares, name);
    }

    // L = (1/n) Σᵢ Σ_c Target[c]_i·(LogSumExp_i − Predicted[c]_i), LogSumExp_i = Max_i + log Σ_c e^(Predicted[c]_i − Max_i).
    private Value CrossEntropyLoss(Value[][] logits, IReadOnlyList<double> targets)
    {
        var (rows, classes) = (logits.Length, logits[0].Length);
        var indices = targets.Count == rows;
        if (classes < 2 || (!indices && targets.Count != rows * classes))
        {
            throw new BackpropException($"Cross-entropy needs one output per class (at least 2) and a class index or {classes} probabilities per row.");
        }
        var terms = new List<Value>();
        for (var r = 0; r < rows; r++)
        {
            var point = PointOf(logits[r][0]);
            var z = logits[r];
            var max = Leaf(z.Max(v => v.Data), "Max_", point);
            var exps = z.Select((zc, c) => Named((zc - max).Exp($"Exp[{c}]_{point}"), $"Exp[{c}]_", point)).ToArray();
            var sum = Named(Value.Sum(exps, $"SumExp_{point}"), "SumExp_", point);
            var log = Named(sum.Log($"LogSum_{point}"), "LogSum_", point);
            var lse = Named(log.Add(max, $"LogSumExp_{point}"), "LogSumExp_", point);
            for (var c = 0; c < classes; c++)
            {
                var p = indices ? (ClassOf(targets[r], classes, r) == c ? 1.0 : 0.0) : targets[(r * classes) + c];
                var target = Leaf(p, $"Target[{c}]_", point);
                terms.Add(Named((lse - z[c]).Multiply(target, $"CrossEntropy[{c}]_{point}"), $"CrossEntropy[{c}]_", point));
            }
        }
        return Value.Sum(terms, "Σ CrossEntropy").Multiply(new Value(1.0 / rows, $"1/{rows}"), "CrossEntropy");
    }

    private int PointOf(Value unit) => perPoint[unit].Point;

    private static int ClassOf(double value, int classes, int row)
    {
        var c = (int)value;
        return c == value && c >= 0 && c < classes
            ? c
            : throw new BackpropException(string.Create(CultureInfo.InvariantCulture, $"Target of row {row + 1} is {value}, not a class index from 0 to {classes - 1}."));
    }
}
