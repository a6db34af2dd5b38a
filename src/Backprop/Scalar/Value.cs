using System.Globalization;

namespace Backprop.Scalar;

/// <summary>
/// One named number in a computation graph, with the gradient of a final result with respect to it.
/// This is backpropagation at its smallest: every operation records its inputs and, for each input,
/// the local derivative d(this)/d(input); <see cref="Backward"/> multiplies them along every path.
/// </summary>
/// <remarks>
/// Local derivatives are stored as numbers, evaluated in the forward pass, so the chain rule can be read
/// off the graph term by term: dSSR/dw1 = Σ over paths of the product of the local derivatives on the path.
/// </remarks>
public sealed class Value
{
    private readonly Value[] inputs;
    private readonly double[] localGradients;

    // d(root)/d(this) for the Backward() call in progress, added to Grad when the call ends.
    private double gradThisPass;

    /// <summary>Creates a leaf: a parameter, an input or a constant.</summary>
    /// <param name="data">The number.</param>
    /// <param name="name">Its name, such as <c>w1</c>; the number itself when omitted.</param>
    public Value(double data, string? name = null)
        : this(data, name ?? data.ToString(CultureInfo.InvariantCulture), name is not null, "", [], [])
    {
    }

    private Value(double data, string name, bool isNamed, string op, Value[] inputs, double[] localGradients, double exponent = 0)
    {
        Data = data;
        Name = name;
        IsNamed = isNamed;
        Op = op;
        this.inputs = inputs;
        this.localGradients = localGradients;
        this.exponent = exponent;
    }

    // The constant exponent of a Pow node, for its derivative's formula.
    private readonly double exponent;

    /// <summary>The number computed in the forward pass.</summary>
    /// <remarks>
    /// NOTE: setting it (say, a gradient-descent step on a parameter) does not update nodes already built
    /// from this one; build the graph again.
    /// </remarks>
    public double Data { get; set; }

    /// <summary>d(root)/d(this), summed over every <see cref="Backward"/> call since it was last zeroed.</summary>
    public double Grad { get; set; }

    /// <summary>The node's name, such as <c>w1</c>, <c>x1,2</c> or <c>SSR</c>.</summary>
    public string Name { get; }

    /// <summary>True when the node was given its name (<c>w1</c>, <c>x1,2</c>) rather than one made up from its operation or value.</summary>
    public bool IsNamed { get; }

    /// <summary>The operation that made this node (<c>+</c>, <c>*</c>, <c>SoftPlus</c>, …), or empty for a leaf.</summary>
    public string Op { get; }

    /// <summary>The nodes this one was computed from, in argument order.</summary>
    public IReadOnlyList<Value> Inputs => inputs;

    /// <summary>For each of <see cref="Inputs"/>, the local derivative d(this)/d(input) at the forward values.</summary>
    public IReadOnlyList<double> LocalGradients => localGradients;

    /// <summary>Adds two values.</summary>
    public static Value operator +(Value a, Value b) => a.Add(b);

    /// <summary>Adds a value and a constant.</summary>
    public static Value operator +(Value a, double b) => a.Add(new Value(b));

    /// <summary>Adds a constant and a value.</summary>
    public static Value operator +(double a, Value b) => new Value(a).Add(b);

    /// <summary>Subtracts two values.</summary>
    public static Value operator -(Value a, Value b) => a.Subtract(b);

    /// <summary>Subtracts a constant from a value.</summary>
    public static Value operator -(Value a, double b) => a.Subtract(new Value(b));

    /// <summary>Subtracts a value from a constant.</summary>
    public static Value operator -(double a, Value b) => new Value(a).Subtract(b);

    /// <summary>Multiplies two values.</summary>
    public static Value operator *(Value a, Value b) => a.Multiply(b);

    /// <summary>Multiplies a value by a constant.</summary>
    public static Value operator *(Value a, double b) => a.Multiply(new Value(b));

    /// <summary>Multiplies a constant by a value.</summary>
    public static Value operator *(double a, Value b) => new Value(a).Multiply(b);

    /// <summary>Negates a value.</summary>
    public static Value operator -(Value a) => a.Negate();

    /// <summary>this + <paramref name="other"/>, optionally named.</summary>
    public Value Add(Value other, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Binary("+", name, other, Data + other.Data, 1, 1); // d/da (a + b) = 1, d/db (a + b) = 1
    }

    /// <summary>this − <paramref name="other"/>, optionally named.</summary>
    public Value Subtract(Value other, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Binary("-", name, other, Data - other.Data, 1, -1); // d/da (a - b) = 1, d/db (a - b) = -1
    }

    /// <summary>this × <paramref name="other"/>, optionally named.</summary>
    public Value Multiply(Value other, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Binary("*", name, other, Data * other.Data, other.Data, Data); // d/da (a·b) = b, d/db (a·b) = a
    }

    /// <summary>−x, optionally named.</summary>
    public Value Negate(string? name = null) => Unary("neg", name, -Data, -1, $"-{Label(this)}"); // d/dx (-x) = -1

    /// <summary>x², optionally named.</summary>
    public Value Square(string? name = null) => Unary("Square", name, Data * Data, 2 * Data, $"{Label(this)}²"); // d/dx x² = 2x

    /// <summary>x^p for a constant exponent p, optionally named.</summary>
    public Value Pow(double exponent, string? name = null)
    {
        var defaultName = $"{Label(this)}^{exponent.ToString(CultureInfo.InvariantCulture)}";
        // d/dx x^p = p·x^(p-1)
        return new(Math.Pow(Data, exponent), name ?? defaultName, name is not null, "Pow", [this], [exponent * Math.Pow(Data, exponent - 1)], exponent);
    }

    /// <summary>e^x, optionally named.</summary>
    public Value Exp(string? name = null)
    {
        var e = Math.Exp(Data);
        return Unary("Exp", name, e, e); // d/dx e^x = e^x
    }

    /// <summary>The natural logarithm ln x, optionally named.</summary>
    public Value Log(string? name = null) => Unary("Log", name, Math.Log(Data), 1 / Data); // d/dx ln x = 1/x

    /// <summary>SoftPlus(x) = log(1 + e^x), the lesson's activation, optionally named.</summary>
    /// <remarks>
    /// Computed as max(x, 0) + log1p(e^−|x|), which neither overflows for large x nor rounds to 0 for very
    /// negative x. Its derivative is the sigmoid, e^x / (1 + e^x), computed without overflow too.
    /// </remarks>
    public Value SoftPlus(string? name = null)
    {
        var y = Math.Max(Data, 0) + Log1P(Math.Exp(-Math.Abs(Data)));
        return Unary("SoftPlus", name, y, StableSigmoid(Data)); // d/dx SoftPlus = e^x / (1 + e^x) = σ(x)
    }

    /// <summary>ReLU(x) = max(x, 0), optionally named.</summary>
    /// <remarks>The derivative at the kink x = 0 is taken to be 0.</remarks>
    public Value Relu(string? name = null) => Unary("Relu", name, Math.Max(Data, 0), Data > 0 ? 1 : 0); // d/dx = 1 if x > 0, else 0

    /// <summary>σ(x) = 1 / (1 + e^−x), optionally named.</summary>
    /// <remarks>d/dx σ = σ(1 − σ), computed as t / (1 + t)² with t = e^−|x|, so it stays accurate where σ ≈ 1.</remarks>
    public Value Sigmoid(string? name = null)
    {
        var t = Math.Exp(-Math.Abs(Data));
        return Unary("Sigmoid", name, StableSigmoid(Data), t / ((1 + t) * (1 + t))); // d/dx σ = σ(1 - σ)
    }

    /// <summary>tanh x, optionally named.</summary>
    /// <remarks>d/dx tanh = 1 − tanh², computed as 4t / (1 + t)² with t = e^−2|x|, so it stays accurate where tanh ≈ ±1.</remarks>
    public Value Tanh(string? name = null)
    {
        var t = Math.Exp(-2 * Math.Abs(Data));
        return Unary("Tanh", name, Math.Tanh(Data), 4 * t / ((1 + t) * (1 + t))); // d/dx tanh = 1 - tanh²
    }

    /// <summary>The sum of any number of values, as one node, optionally named.</summary>
    /// <remarks>d/dvᵢ Σv = 1 for every input.</remarks>
    public static Value Sum(IEnumerable<Value> values, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        var terms = values.ToArray();
        var total = 0.0;
        foreach (var term in terms)
        {
            ArgumentNullException.ThrowIfNull(term, nameof(values));
            total += term.Data;
        }

        return new(total, name ?? "Σ", name is not null, "Sum", terms, Enumerable.Repeat(1.0, terms.Length).ToArray());
    }

    /// <summary>Every node this one depends on, each once, inputs before the nodes made from them; this node is last.</summary>
    /// <remarks>An iterative depth-first search, so a graph of any depth fits on the call stack.</remarks>
    public IReadOnlyList<Value> TopologicalOrder()
    {
        var order = new List<Value>();
        var visited = new HashSet<Value> { this };
        var stack = new Stack<(Value Node, int NextInput)>();
        stack.Push((this, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.inputs.Length)
            {
                stack.Push((node, next + 1)); // come back for the next input
                var input = node.inputs[next];
                if (visited.Add(input))
                {
                    stack.Push((input, 0));
                }
            }
            else
            {
                order.Add(node); // all its inputs are already in the list
            }
        }

        return order;
    }

    /// <summary>
    /// Backpropagation: adds d(this)/d(node) to the <see cref="Grad"/> of every node this one depends on
    /// (and 1 to its own).
    /// </summary>
    /// <remarks>
    /// Visits the nodes once each, outputs before inputs, applying the chain rule
    /// grad(input) += grad(node) × d(node)/d(input). By the time a node is visited every path to it has
    /// contributed, so its gradient is complete. Gradients accumulate across calls until zeroed.
    /// </remarks>
    public void Backward()
    {
        var order = TopologicalOrder();
        foreach (var node in order)
        {
            node.gradThisPass = 0;
        }

        gradThisPass = 1; // d(this)/d(this)
        for (var k = order.Count - 1; k >= 0; k--)
        {
            var node = order[k];
            for (var j = 0; j < node.inputs.Length; j++)
            {
                node.inputs[j].gradThisPass += node.gradThisPass * node.localGradients[j];
            }
        }

        // NOTE: a separate pass, not Grad itself, so a second call adds exactly one more gradient to every
        // node instead of pushing the first call's gradients down the graph again.
        foreach (var node in order)
        {
            node.Grad += node.gradThisPass;
        }
    }

    /// <summary>Sets this node's gradient to 0.</summary>
    public void ZeroGrad() => Grad = 0;

    /// <summary>Sets the gradient of each of <paramref name="nodes"/> to 0 (for example the parameters, or a whole <see cref="TopologicalOrder"/>).</summary>
    public static void ZeroGrad(IEnumerable<Value> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        foreach (var node in nodes)
        {
            node.Grad = 0;
        }
    }

    /// <summary>Shows the node as <c>w1 = 2.74 (grad -0.57)</c>.</summary>
    public override string ToString() => $"{Name} = {Format(Data)} (grad {Format(Grad)})";

    /// <summary>
    /// How this node is computed from its inputs, as a formula over the inputs' labels:
    /// <c>Observed_1 − Predicted_1</c>, <c>SoftPlus(x1,1)</c>; empty for a leaf.
    /// </summary>
    /// <param name="label">The text for each input (its name, or something else such as a name with the data point written as i).</param>
    public string Definition(Func<Value, string> label)
    {
        ArgumentNullException.ThrowIfNull(label);
        return Op switch
        {
            "" => "",
            "+" => $"{label(inputs[0])} + {label(inputs[1])}",
            "-" => $"{label(inputs[0])} − {label(inputs[1])}",
            "*" => $"{label(inputs[0])}·{label(inputs[1])}",
            "Sum" => string.Join(" + ", inputs.Select(label)),
            "neg" => $"−{label(inputs[0])}",
            "Square" => $"{label(inputs[0])}²",
            "Pow" => $"{label(inputs[0])}^{exponent.ToString(CultureInfo.InvariantCulture)}",
            "Exp" => $"e^{label(inputs[0])}",
            _ => $"{Op}({label(inputs[0])})",
        };
    }

    /// <summary>
    /// The local derivative d(this)/d(input <paramref name="input"/>) as a formula: a constant factor
    /// and a product of symbols (empty for none). For y = SoftPlus(x1,1): (1, "e^x1,1/(1+e^x1,1)");
    /// for r² with r = Observed − Predicted: (2, "r"); for a − b with respect to b: (−1, "").
    /// Its value at the forward pass is <see cref="LocalGradients"/>[<paramref name="input"/>].
    /// </summary>
    /// <param name="input">The index of the input in <see cref="Inputs"/>.</param>
    /// <param name="label">The text for each node the formula mentions.</param>
    public (double Coefficient, string Factor) LocalGradientFormula(int input, Func<Value, string> label)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentOutOfRangeException.ThrowIfNegative(input);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(input, inputs.Length);
        var x = label(inputs[0]);
        return Op switch
        {
            "+" or "Sum" => (1, ""),
            "-" => (input == 0 ? 1 : -1, ""),
            "neg" => (-1, ""),
            // d/da (a·b) = b: a constant that was never named is a plain number, anything else a symbol.
            "*" => inputs[1 - input] is { IsNamed: false, Op: "" } constant ? (constant.Data, "") : (1, label(inputs[1 - input])),
            "Square" => (2, x),
            "Pow" => (exponent, $"{x}^{(exponent - 1).ToString(CultureInfo.InvariantCulture)}"),
            "Exp" => (1, $"e^{x}"),
            "Log" => (1, $"1/{x}"),
            "SoftPlus" => (1, $"e^{x}/(1+e^{x})"),
            "Relu" => (1, $"(1 if {x} > 0, else 0)"),
            "Sigmoid" => (1, $"σ({x})(1−σ({x}))"),
            "Tanh" => (1, $"(1−tanh²({x}))"),
            _ => throw new InvalidOperationException($"No formula for the derivative of '{Op}'."),
        };
    }

    // Default names such as "(a+b)" and "Tanh(a)" are only for reading; pass a name where it matters.
    private Value Unary(string op, string? name, double data, double localGradient, string? defaultName = null) =>
        new(data, name ?? defaultName ?? $"{op}({Label(this)})", name is not null, op, [this], [localGradient]);

    private Value Binary(string op, string? name, Value other, double data, double gradThis, double gradOther) =>
        new(data, name ?? $"({Label(this)}{op}{Label(other)})", name is not null, op, [this, other], [gradThis, gradOther]);

    // σ(x) without overflow: e^x is only ever taken of a non-positive number.
    private static double StableSigmoid(double x)
    {
        var t = Math.Exp(-Math.Abs(x));
        return x >= 0 ? 1 / (1 + t) : t / (1 + t);
    }

    // log(1 + x), accurate for tiny x. NOTE: Math.Log(1 + x), and double.LogP1 which computes just that, lose
    // x's digits as x shrinks and return 0 below 1.1e-16; x / (u - 1) undoes the rounding of u = 1 + x (Goldberg, 1991).
    private static double Log1P(double x)
    {
        var u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    // Default names nest one level only, so a long chain does not build ever longer strings.
    private static string Label(Value v) => v.Name.Length <= 16 ? v.Name : "…";

    private static string Format(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
}
