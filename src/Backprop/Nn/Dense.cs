using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// A fully connected layer: output = f(input · W + b), with W [inputs, outputs] and b [outputs].
/// </summary>
/// <remarks>
/// W is stored inputs × outputs, so <c>weight[i,j]</c> connects input i to unit j and the forward
/// pass is one plain matrix product. The product, the bias and the activation are recorded as one
/// operation (forward and derivatives fused). Its parameters are named <c>{name}.weight</c> and <c>{name}.bias</c>.
/// Its kind is <see cref="DenseKind"/>.
/// </remarks>
public sealed class Dense<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero-initialised layer; use an <see cref="Initializer"/> to set its weights.</summary>
    /// <param name="inputs">Number of inputs (fan-in).</param>
    /// <param name="outputs">Number of units (fan-out).</param>
    /// <param name="activation">f; <see cref="Activation.Identity"/> when null.</param>
    /// <param name="name">The layer's name; its parameters are named after it.</param>
    public Dense(int inputs, int outputs, Activation? activation = null, string name = "dense")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        Inputs = inputs;
        Outputs = outputs;
        Activation = activation ?? Activation.Identity;
        Name = name;
        Weight = new Parameter<T>(name + ".weight", new Shape(inputs, outputs));
        Bias = new Parameter<T>(name + ".bias", new Shape(outputs));
    }

    /// <summary>The layer's name (<c>layer0</c>); its parameters are named after it.</summary>
    public string Name { get; private set; }

    /// <summary>Number of inputs (fan-in).</summary>
    public int Inputs { get; }

    /// <summary>Number of units (fan-out).</summary>
    public int Outputs { get; }

    /// <summary>The activation applied to the weighted sums.</summary>
    public Activation Activation { get; }

    /// <summary>The weights, [inputs, outputs].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The biases, [outputs].</summary>
    public Parameter<T> Bias { get; }

    /// <inheritdoc/>
    public override LayerKind Kind => DenseKind.Instance;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 2 || input.Shape[1] != Inputs)
        {
            throw new BackpropException($"Layer {Name} takes rows of {Inputs} inputs; it was given shape {input.Shape}.");
        }
        return Activation.Linear(input, Weight, Bias);
    }

    /// <inheritdoc/>
    public override IEnumerable<Parameter<T>> Parameters() => [Weight, Bias];

    /// <inheritdoc/>
    public override void SetName(string prefix)
    {
        Name = prefix;
        Weight.Rename(prefix + ".weight");
        Bias.Rename(prefix + ".bias");
    }

    /// <inheritdoc/>
    public override string Describe() => $"Dense({Inputs} → {Outputs}, {Activation.DisplayName})";
}

/// <summary>
/// The dense layer's kind: <c>dense UNITS [ACTIVATION]</c> in <c>--net</c>; fields <c>inputs</c>,
/// <c>outputs</c>, <c>activation</c>; arrays <c>weight</c> [inputs, outputs] and <c>bias</c> [outputs];
/// ONNX Gemm then the activation's operator.
/// </summary>
public sealed class DenseKind : LayerKind
{
    private DenseKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static DenseKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "dense";

    /// <inheritdoc/>
    public override string DisplayName => "Dense";

    /// <inheritdoc/>
    public override string Syntax => "dense UNITS [ACTIVATION]";

    /// <inheritdoc/>
    public override string Description => "f(x·W + b) on rows of numbers (UNITS outputs; ACTIVATION fused in, identity by default)";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => ("dense 3 tanh", new Shape(5));

    /// <inheritdoc/>
    public override int? InputRank => 1;

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        var w = new ItemWords(words, Syntax);
        var fields = new LayerFields().Add("outputs", w.Positive("UNITS")).Add("activation", w.ActivationOrIdentity().Name);
        w.End();
        return fields;
    }

    /// <inheritdoc/>
    public override LayerFields? FuseActivation(LayerFields fields, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(activation);
        return fields.Text("activation") == Activation.Identity.Name ? fields.Copy().Add("activation", activation.Name) : null;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input)
    {
        Check(fields, input);
        return new Shape(fields.PositiveInt("outputs"));
    }

    /// <inheritdoc/>
    public override IReadOnlyList<LayerArray> Arrays(LayerFields fields, Shape input)
    {
        var (inputs, outputs, _) = Check(fields, input);
        return [new("weight", new Shape(inputs, outputs)), new("bias", new Shape(outputs))];
    }

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input)
    {
        var (inputs, outputs, activation) = Check(fields, input);
        return new Dense<T>(inputs, outputs, activation);
    }

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer)
    {
        var dense = Expect<Dense<T>>(layer);
        return new LayerFields().Add("inputs", dense.Inputs).Add("outputs", dense.Outputs).Add("activation", dense.Activation.Name);
    }

    /// <summary>Weights drawn for fan-in = inputs and fan-out = outputs, biases 0.</summary>
    public override void Initialize<T>(Module<T> layer, Initializer initializer)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        var dense = Expect<Dense<T>>(layer);
        initializer.Fill(dense.Weight.Data, dense.Inputs, dense.Outputs);
        dense.Bias.Data.Clear();
    }

    /// <summary>Gemm (Y = X·W + b, W stored [inputs, outputs] so no transpose), then the activation's operator.</summary>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var dense = Expect<Dense<T>>(layer);
        var w = graph.Initializer(dense.Weight.Name!, dense.Weight.Shape, (ReadOnlySpan<T>)dense.Weight.Data);
        var b = graph.Initializer(dense.Bias.Name!, dense.Bias.Shape, (ReadOnlySpan<T>)dense.Bias.Data);
        var sums = graph.Node("Gemm", [input, w, b], name + ".sums");
        return dense.Activation.OnnxOperator is { } op ? graph.Node(op, [sums], name + ".out") : sums;
    }

    /// <inheritdoc/>
    public override string Label(LayerFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var activation = Activations.Parse(fields.Text("activation"));
        return activation == Activation.Identity ? $"Dense({fields.Int("outputs")})" : $"Dense({fields.Int("outputs")}, {activation.DisplayName})";
    }

    private static (int Inputs, int Outputs, Activation Activation) Check(LayerFields fields, Shape input)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (input.Rank != 1)
        {
            throw new BackpropException($"dense takes rows of numbers, not examples of shape {input}; put a flatten before it");
        }
        var outputs = fields.PositiveInt("outputs");
        if (fields.Has("inputs") && fields.Int("inputs") != input[0])
        {
            throw new BackpropException($"it takes {fields.Int("inputs")} inputs but the layer before it gives {input[0]}");
        }
        return (input[0], outputs, ParseActivation(fields.Text("activation")));
    }

    private static Activation ParseActivation(string name)
        => LayerRegistry.Activations.FirstOrDefault(a => a.Name == name) ?? throw new BackpropException($"unknown activation '{name}'");
}
