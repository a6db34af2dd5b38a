using System.Globalization;
using Backprop.Scalar;

namespace Backprop.Diagnostics;

/// <summary>How <see cref="ChainRule.Explain"/> lays out the derivatives.</summary>
public enum ExplanationView
{
    /// <summary>Paths when every parameter is reached by a few paths per data point, otherwise the recurrence.</summary>
    Auto,

    /// <summary>Each derivative as a sum over data points of products of local derivatives along each path (the lesson's way).</summary>
    Paths,

    /// <summary>Layer by layer: each unit's gradient = Σ over the units that use it of their gradient × local derivative.</summary>
    Recurrence,
}

/// <summary>One factor of a chain-rule product: <c>dy1,i/dx1,i = e^x1,i/(1+e^x1,i)</c>, with its value at each data point.</summary>
/// <param name="Name">The derivative, e.g. <c>dPredicted_i/dy1,i</c>.</param>
/// <param name="Formula">Its formula (<c>w3</c>); empty when its values are gradients computed earlier in the backward pass.</param>
/// <param name="Values">Its value at each data point (index 0 for data point 1).</param>
public sealed record ChainRuleTerm(string Name, string Formula, IReadOnlyList<double> Values);

/// <summary>One product of terms, e.g. dSSR/dPredicted_i · dPredicted_i/dy1,i · dy1,i/dx1,i · dx1,i/dw1.</summary>
/// <param name="Terms">The factors, from the loss down to the parameter.</param>
/// <param name="Products">The product at each data point.</param>
public sealed record ChainRulePath(IReadOnlyList<ChainRuleTerm> Terms, IReadOnlyList<double> Products);

/// <summary>The derivative of the loss with respect to one parameter, written out by the chain rule.</summary>
/// <param name="Parameter">The parameter's name (<c>w1</c>).</param>
/// <param name="Value">The parameter's value.</param>
/// <param name="Equation">E.g. <c>dSSR/dw1 = Σ_i dSSR/dPredicted_i · dPredicted_i/dy1,i · dy1,i/dx1,i · dx1,i/dw1</c>.</param>
/// <param name="Paths">The products summed (one for the lesson's network; more where several paths reach the parameter).</param>
/// <param name="PerPoint">The sum of the products at each data point.</param>
/// <param name="Sum">The sum over data points: the derivative.</param>
/// <param name="Backprop">The gradient <see cref="Value.Backward"/> computed; equal to <paramref name="Sum"/>.</param>
public sealed record ParameterDerivative(
    string Parameter, double Value, string Equation, IReadOnlyList<ChainRulePath> Paths, IReadOnlyList<double> PerPoint, double Sum, double Backprop);

/// <summary>One term of a unit's gradient in the recurrence: the gradient of a unit that uses it times the local derivative.</summary>
/// <param name="Consumer">The unit that uses it (its template, e.g. <c>Predicted_i</c>).</param>
/// <param name="Gradient">d(loss)/d(consumer) at this data point.</param>
/// <param name="Local">d(consumer)/d(unit) at this data point.</param>
public readonly record struct RecurrenceTerm(string Consumer, double Gradient, double Local);

/// <summary>A unit's gradient at one data point: the sum of its terms.</summary>
public sealed record UnitGradientPoint(int Point, IReadOnlyList<RecurrenceTerm> Terms, double Gradient);

/// <summary>A unit's gradient by the recurrence, for every data point.</summary>
/// <param name="Unit">The unit's template, e.g. <c>y1,i</c>.</param>
/// <param name="Equation">E.g. <c>dSSR/dy1,i = dSSR/dPredicted_i · dPredicted_i/dy1,i</c>.</param>
/// <param name="LocalFormulas">The local derivatives the equation uses, e.g. <c>dPredicted_i/dy1,i = w3</c>.</param>
/// <param name="Points">The numbers at each data point.</param>
public sealed record UnitGradient(string Unit, string Equation, IReadOnlyList<string> LocalFormulas, IReadOnlyList<UnitGradientPoint> Points);

/// <summary>A gradient backprop computes once and reuses for several parameters.</summary>
/// <param name="Name">E.g. <c>dSSR/dPredicted_i</c>.</param>
/// <param name="Parameters">The parameters whose derivatives use it.</param>
public sealed record SharedGradient(string Name, IReadOnlyList<string> Parameters);

/// <summary>The chain rule written out with real numbers, read off a <see cref="NetworkGraph"/>.</summary>
/// <param name="Loss">The loss's name (<c>SSR</c>).</param>
/// <param name="LossValue">The loss's value.</param>
/// <param name="PointCount">The number of data points.</param>
/// <param name="View">Paths or recurrence.</param>
/// <param name="Units">The recurrence, from the outputs back to the first layer (empty for the path view).</param>
/// <param name="Parameters">Each parameter asked for.</param>
/// <param name="Shared">Gradients computed once and reused by several parameters, from the loss down.</param>
public sealed record ChainRuleExplanation(
    string Loss, double LossValue, int PointCount, ExplanationView View, IReadOnlyList<UnitGradient> Units,
    IReadOnlyList<ParameterDerivative> Parameters, IReadOnlyList<SharedGradient> Shared);

/// <summary>
/// Writes out backpropagation as the lesson does: each derivative a sum over data points of products of
/// simple local derivatives, with their formulas and values, all read off the real graph.
/// </summary>
/// <remarks>
/// The transcript stops only at the network's units (weighted sums, activations, outputs), the loss and
/// the parameters; the nodes between them (Residual_i, the products Input_i·w1) are folded into one
/// local derivative, so dSSR/dPredicted_i reads −2(Observed_i − Predicted_i). Every sum is checked
/// against the gradient <see cref="Value.Backward"/> computed.
/// </remarks>
public static class ChainRule
{
    /// <summary>At most this many path products per parameter in the automatic path view.</summary>
    public const int MaxPaths = 4;

    private sealed record Edge(Value From, Value To, double Value, string Formula);

    /// <summary>Explains the derivative of the graph's loss with respect to each of <paramref name="parameters"/>.</summary>
    /// <param name="graph">The network and its loss; its gradients are recomputed here.</param>
    /// <param name="parameters">Names of parameters to explain; null for all, in the network's order.</param>
    /// <param name="view">Paths, recurrence, or automatic.</param>
    /// <param name="expected">
    /// Gradients computed another way (say, by the tensor engine); each explained sum must match them too.
    /// </param>
    /// <exception cref="BackpropException">A parameter name is unknown, or the path view was asked for where paths are too many.</exception>
    /// <exception cref="InvalidOperationException">A sum differs from the gradient backprop computed.</exception>
    public static ChainRuleExplanation Explain(
        NetworkGraph graph, IReadOnlyList<string>? parameters = null, ExplanationView view = ExplanationView.Auto,
        IReadOnlyDictionary<string, double>? expected = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var names = parameters ?? [.. graph.Parameters.Keys];
        foreach (var name in names)
        {
            if (!graph.Parameters.ContainsKey(name))
            {
                var known = graph.Parameters.Keys.ToList();
                throw new BackpropException($"The network has no parameter named '{name}' (it has {string.Join(", ", known.Take(10))}{(known.Count > 10 ? ", …" : "")}).");
            }
        }
        var loss = graph.Loss;
        var order = loss.TopologicalOrder();
        Value.ZeroGrad(order);
        loss.Backward();

        var stations = new HashSet<Value>(graph.Units) { loss };
        stations.UnionWith(graph.Parameters.Values);
        // Units, parameters and data by name; a named node between units by its definition when that is
        // one step from named things (Residual_i → (Observed_i − Predicted_i)), else by name (SumExp_i).
        bool Plain(Value v) => stations.Contains(v) || v.Op.Length == 0;
        string Label(Value v) => Plain(v) || (v.IsNamed && !v.Inputs.All(Plain)) ? graph.Template(v) : $"({v.Definition(Label)})";
        var edges = new Dictionary<Value, List<Edge>>();
        var consumers = new Dictionary<Value, List<Edge>>();
        foreach (var node in order.Where(n => stations.Contains(n) && n.Op.Length > 0))
        {
            var list = Edges(node, stations, Label);
            edges[node] = list;
            foreach (var e in list)
            {
                (consumers.TryGetValue(e.To, out var c) ? c : consumers[e.To] = []).Add(e);
            }
        }

        var pathCounts = CountPaths(order, stations, edges, graph);
        if (view == ExplanationView.Auto)
        {
            view = names.All(n => pathCounts[graph.Parameters[n]] <= MaxPaths * graph.PointCount) ? ExplanationView.Paths : ExplanationView.Recurrence;
        }
        else if (view == ExplanationView.Paths && names.FirstOrDefault(n => pathCounts[graph.Parameters[n]] > 64 * graph.PointCount) is { } tooMany)
        {
            throw new BackpropException($"{pathCounts[graph.Parameters[tooMany]]} paths reach {tooMany}; too many to list: use the recurrence view.");
        }

        var lossName = loss.Name;
        var units = new List<UnitGradient>();
        var gradient = new Dictionary<Value, double> { [loss] = 1 };
        // Each unit's gradient from the units that use it, outputs first: backpropagation itself.
        for (var k = order.Count - 1; k >= 0; k--)
        {
            var node = order[k];
            if (node == loss || !graph.IsUnit(node))
            {
                continue;
            }
            var g = 0.0;
            foreach (var e in consumers.GetValueOrDefault(node) ?? [])
            {
                g += gradient[e.From] * e.Value;
            }
            gradient[node] = g;
            Check($"d{lossName}/d{node.Name}", g, node.Grad, "the gradient backprop computed");
        }
        if (view == ExplanationView.Recurrence)
        {
            units.AddRange(Recurrence(graph, lossName, consumers, gradient));
        }

        var derivatives = new List<ParameterDerivative>();
        foreach (var name in names)
        {
            var p = graph.Parameters[name];
            var paths = view == ExplanationView.Paths
                ? PathProducts(graph, loss, p, edges)
                : LastStepProducts(graph, lossName, p, consumers, gradient);
            var perPoint = new double[graph.PointCount];
            foreach (var path in paths)
            {
                for (var i = 0; i < perPoint.Length; i++)
                {
                    perPoint[i] += path.Products[i];
                }
            }
            var sum = perPoint.Sum();
            Check($"d{lossName}/d{name}", sum, p.Grad, "the gradient backprop computed");
            if (expected is not null && expected.TryGetValue(name, out var other))
            {
                Check($"d{lossName}/d{name}", sum, other, "the tensor engine's gradient");
            }
            var products = paths.Select(path => string.Join(" · ", path.Terms.Select(t => t.Name))).ToList();
            var equation = $"d{lossName}/d{name} = Σ_i " + (products.Count == 1 ? products[0] : $"[{string.Join(" + ", products)}]");
            derivatives.Add(new ParameterDerivative(name, p.Data, equation, paths, perPoint, sum, p.Grad));
        }

        return new ChainRuleExplanation(lossName, loss.Data, graph.PointCount, view, units, derivatives, Shared(graph, lossName, order, edges));
    }

    // The local derivative from a unit (or the loss) to each unit or parameter just below it, folding
    // the nodes in between: the sum over sub-paths of the product of their local derivatives.
    private static List<Edge> Edges(Value from, HashSet<Value> stations, Func<Value, string> label)
    {
        var found = new List<(Value To, double Value, string Formula)>();
        Walk(from, 1, 1, []);
        return [.. found.GroupBy(f => f.To).Select(g => new Edge(from, g.Key, g.Sum(f => f.Value), string.Join(" + ", g.Select(f => f.Formula)).Replace("+ −", "− ", StringComparison.Ordinal)))];

        // NOTE: recursive, but only through the few nodes between two units (a product, a residual).
        void Walk(Value node, double value, double coefficient, List<string> factors)
        {
            for (var j = 0; j < node.Inputs.Count; j++)
            {
                var input = node.Inputs[j];
                if (input.Op.Length == 0 && !stations.Contains(input))
                {
                    continue; // data or a constant: no derivative needed
                }
                var (c, f) = node.LocalGradientFormula(j, label);
                List<string> next = f.Length == 0 ? factors : [.. factors, f];
                if (stations.Contains(input))
                {
                    found.Add((input, value * node.LocalGradients[j], Formula(coefficient * c, next)));
                }
                else
                {
                    Walk(input, value * node.LocalGradients[j], coefficient * c, next);
                }
            }
        }
    }

    private static Dictionary<Value, long> CountPaths(IReadOnlyList<Value> order, HashSet<Value> stations, Dictionary<Value, List<Edge>> edges, NetworkGraph graph)
    {
        // paths(s) = number of station paths from the loss to s; inputs come before outputs in order.
        var counts = new Dictionary<Value, long> { [order[^1]] = 1 };
        for (var k = order.Count - 1; k >= 0; k--)
        {
            if (edges.TryGetValue(order[k], out var list) && counts.TryGetValue(order[k], out var n))
            {
                foreach (var e in list)
                {
                    counts[e.To] = Math.Min(counts.GetValueOrDefault(e.To) + n, long.MaxValue / 2);
                }
            }
        }
        foreach (var p in graph.Parameters.Values)
        {
            counts.TryAdd(p, 0);
        }
        return counts;
    }

    // Every path from the loss down to p, grouped by the names of its units with the data point written as i.
    private static List<ChainRulePath> PathProducts(NetworkGraph graph, Value loss, Value p, Dictionary<Value, List<Edge>> edges)
    {
        var groups = new List<(string Key, List<(Edge[] Edges, int Point)> Paths)>();
        var stack = new Stack<(Value Node, Edge[] Path)>();
        stack.Push((loss, []));
        while (stack.Count > 0)
        {
            var (node, path) = stack.Pop();
            if (node == p)
            {
                var point = path.Select(e => graph.TryGetTemplate(e.To, out _, out var i) ? i : 0).Max();
                var key = string.Join("|", path.Select(e => graph.Template(e.To)));
                var group = groups.FirstOrDefault(g => g.Key == key);
                if (group.Paths is null)
                {
                    group = (key, []);
                    groups.Add(group);
                }
                group.Paths.Add((path, point));
                continue;
            }
            if (!edges.TryGetValue(node, out var list))
            {
                continue;
            }
            for (var k = list.Count - 1; k >= 0; k--)
            {
                stack.Push((list[k].To, [.. path, list[k]]));
            }
        }

        var result = new List<ChainRulePath>();
        foreach (var (_, paths) in groups.OrderBy(g => g.Paths.Min(q => q.Point)))
        {
            var first = paths[0].Edges;
            var terms = new List<ChainRuleTerm>();
            for (var t = 0; t < first.Length; t++)
            {
                var values = new double[graph.PointCount];
                foreach (var (path, point) in paths)
                {
                    values[Math.Max(point, 1) - 1] = path[t].Value;
                }
                terms.Add(new ChainRuleTerm($"d{graph.Template(first[t].From)}/d{graph.Template(first[t].To)}", first[t].Formula, values));
            }
            result.Add(new ChainRulePath(terms, Products(terms, graph.PointCount)));
        }
        return result;
    }

    // The recurrence's last step: d(loss)/dp = Σ over the units that use p of their gradient × local derivative.
    private static List<ChainRulePath> LastStepProducts(
        NetworkGraph graph, string lossName, Value p, Dictionary<Value, List<Edge>> consumers, Dictionary<Value, double> gradient)
    {
        var result = new List<ChainRulePath>();
        foreach (var group in (consumers.GetValueOrDefault(p) ?? []).GroupBy(e => graph.Template(e.From)))
        {
            var upstream = new double[graph.PointCount];
            var local = new double[graph.PointCount];
            foreach (var e in group)
            {
                var i = graph.TryGetTemplate(e.From, out _, out var point) ? point - 1 : 0;
                upstream[i] = gradient[e.From];
                local[i] = e.Value;
            }
            ChainRuleTerm[] terms =
            [
                new($"d{lossName}/d{group.Key}", "", upstream),
                new($"d{group.Key}/d{p.Name}", group.First().Formula, local),
            ];
            result.Add(new ChainRulePath(terms, Products(terms, graph.PointCount)));
        }
        return result;
    }

    private static List<UnitGradient> Recurrence(
        NetworkGraph graph, string lossName, Dictionary<Value, List<Edge>> consumers, Dictionary<Value, double> gradient)
    {
        var result = new List<UnitGradient>();
        var byTemplate = graph.Units
            .GroupBy(graph.Template)
            .OrderByDescending(g => graph.PlaceOf(g.First()).Depth)
            .ThenBy(g => graph.PlaceOf(g.First()).Index);
        foreach (var group in byTemplate)
        {
            var unit = group.Key;
            var first = consumers.GetValueOrDefault(group.First()) ?? [];
            var parts = first.Select(e => e.From.Op.Length > 0 && !graph.IsUnit(e.From)
                ? $"d{lossName}/d{unit}"
                : $"d{lossName}/d{graph.Template(e.From)} · d{graph.Template(e.From)}/d{unit}").ToList();
            var equation = first.Count == 1 && !graph.IsUnit(first[0].From)
                ? $"d{lossName}/d{unit} = {first[0].Formula}"
                : $"d{lossName}/d{unit} = {string.Join(" + ", parts)}";
            var locals = first.Where(e => graph.IsUnit(e.From)).Select(e => $"d{graph.Template(e.From)}/d{unit} = {e.Formula}").ToList();
            var points = new List<UnitGradientPoint>();
            foreach (var node in group)
            {
                graph.TryGetTemplate(node, out _, out var point);
                var terms = (consumers.GetValueOrDefault(node) ?? [])
                    .Select(e => new RecurrenceTerm(graph.Template(e.From), gradient[e.From], e.Value)).ToList();
                points.Add(new UnitGradientPoint(point, terms, gradient[node]));
            }
            result.Add(new UnitGradient(unit, equation, locals, points));
        }
        return result;
    }

    private static List<SharedGradient> Shared(NetworkGraph graph, string lossName, IReadOnlyList<Value> order, Dictionary<Value, List<Edge>> edges)
    {
        // For each unit, the parameters below it: their derivatives all use its gradient.
        var below = new Dictionary<Value, HashSet<Value>>();
        foreach (var node in order)
        {
            if (!edges.TryGetValue(node, out var list))
            {
                continue;
            }
            var set = new HashSet<Value>();
            foreach (var e in list)
            {
                if (below.TryGetValue(e.To, out var under))
                {
                    set.UnionWith(under);
                }
                else if (e.To.Op.Length == 0)
                {
                    set.Add(e.To);
                }
            }
            below[node] = set;
        }
        var rank = graph.Parameters.Values.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i);
        return [.. graph.Units
            .GroupBy(graph.Template)
            .OrderByDescending(g => graph.PlaceOf(g.First()).Depth)
            .ThenBy(g => graph.PlaceOf(g.First()).Index)
            .Select(g => new SharedGradient($"d{lossName}/d{g.Key}", [.. below[g.First()].OrderBy(p => rank[p]).Select(p => p.Name)]))
            .Where(s => s.Parameters.Count > 1)];
    }

    private static double[] Products(IReadOnlyList<ChainRuleTerm> terms, int points)
    {
        var products = new double[points];
        for (var i = 0; i < points; i++)
        {
            products[i] = 1;
            foreach (var t in terms)
            {
                products[i] *= t.Values[i];
            }
        }
        return products;
    }

    private static void Check(string what, double explained, double computed, string other)
    {
        // Same products, summed in another order: equal to rounding.
        if (!(Math.Abs(explained - computed) <= 1e-9 * Math.Max(1, Math.Abs(computed))))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The chain-rule sum for {what} is {explained:R}, but {other} is {computed:R}."));
        }
    }

    /// <summary>A constant times a product of symbols: <c>−2(Observed_i − Predicted_i)</c>, <c>w3</c>, <c>1</c>.</summary>
    internal static string Formula(double coefficient, IReadOnlyList<string> factors)
    {
        if (factors.Count == 0)
        {
            return Number(coefficient);
        }
        var body = string.Join("·", factors);
        var prefix = coefficient switch
        {
            1 => "",
            -1 => "−",
            _ => Number(coefficient) + (body.StartsWith('(') ? "" : "·"),
        };
        return prefix + body;
    }

    private static string Number(double x) => NumberText.Typeset(x);
}
