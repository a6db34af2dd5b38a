using System.Numerics;
using Backprop.Scalar;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// An activation function: a layer kind without parameters that applies f element-wise. Each
/// activation lives in one file under <c>Nn/Activations/</c> with its tensor op and derivative rule,
/// its fused form inside a dense layer, its scalar (<see cref="Value"/>) form and its ONNX operator,
/// and is registered in <see cref="LayerRegistry"/>.
/// </summary>
public abstract class Activation : LayerKind
{
    /// <summary>f(x) = x (regression outputs).</summary>
    public static Activation Identity => IdentityActivation.Instance;

    /// <summary>f(x) = log(1 + eˣ), the lesson's hidden-node activation.</summary>
    public static Activation SoftPlus => SoftPlusActivation.Instance;

    /// <summary>f(x) = max(x, 0).</summary>
    public static Activation Relu => ReluActivation.Instance;

    /// <summary>f(x) = 1/(1 + e^−x).</summary>
    public static Activation Sigmoid => SigmoidActivation.Instance;

    /// <summary>f(x) = tanh x.</summary>
    public static Activation Tanh => TanhActivation.Instance;

    /// <summary>The ONNX operator applying f (e.g. <c>Relu</c>), or null when f is the identity.</summary>
    public abstract string? OnnxOperator { get; }

    /// <summary>f applied element-wise, recorded as one op (its derivative beside it).</summary>
    public abstract Tensor<T> Apply<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// f(x·W + b): a dense layer's forward pass. The built-in activations record it as one fused op
    /// (f in place forward, f′ in place backward); the default records the linear op then <see cref="Apply{T}"/>.
    /// </summary>
    public virtual Tensor<T> Linear<T>(Tensor<T> x, Tensor<T> weight, Tensor<T> bias) where T : unmanaged, IFloatingPointIeee754<T>
        => Apply(x.Linear(weight, bias));

    /// <summary>f of one named number (the scalar view the explainer reads).</summary>
    public abstract Value Apply(Value x, string name);

    /// <inheritdoc/>
    public override string Description => "applies " + DisplayName + " to every number";

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        ExpectWords(words, 0, 0);
        return new LayerFields();
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input) => input;

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input) => new ActivationLayer<T>(this);

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer) => new();

    /// <inheritdoc/>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node(OnnxOperator ?? "Identity", [input], name + ".out");
    }

    /// <summary>Reads an activation name, ignoring case (<c>softplus</c>, <c>relu</c>, …).</summary>
    /// <exception cref="BackpropException">The name is not a registered activation.</exception>
    public static Activation Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return LayerRegistry.Activations.FirstOrDefault(a => string.Equals(a.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new BackpropException($"Unknown activation '{name}'; choose one of {string.Join(", ", LayerRegistry.Activations.Select(a => a.Name))}.");
    }
}

/// <summary>A module that applies an activation function element-wise; it has no parameters.</summary>
public sealed class ActivationLayer<T>(Activation activation) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The function applied.</summary>
    public Activation Activation { get; } = activation ?? throw new ArgumentNullException(nameof(activation));

    /// <inheritdoc/>
    public override LayerKind Kind => Activation;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input) => Activation.Apply(input);

    /// <inheritdoc/>
    public override string Describe() => Activation.DisplayName;
}
