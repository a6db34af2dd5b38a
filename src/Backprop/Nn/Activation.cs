using System.Numerics;
using Backprop.Scalar;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

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
    /// (f in place forward, f′ in place backward); an activation without a fused rule records the
    /// linear op then <see cref="Apply{T}"/>.
    /// </summary>
    public Tensor<T> Linear<T>(Tensor<T> x, Tensor<T> weight, Tensor<T> bias) where T : unmanaged, IFloatingPointIeee754<T>
        => Fuse<T, LinearFusion<T>>(new(x, weight, bias)) ?? Apply(x.Linear(weight, bias));

    /// <summary>
    /// f(conv(x, W) + b): a convolution layer's forward pass (NCHW, square kernels, zero padding), fused
    /// as <see cref="Linear{T}"/> is.
    /// </summary>
    public Tensor<T> Conv2d<T>(Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, int stride, int padding) where T : unmanaged, IFloatingPointIeee754<T>
        => Fuse<T, ConvFusion<T>>(new(x, weight, bias, stride, padding)) ?? Apply(x.Conv2d(weight, bias, stride, padding));

    /// <summary>
    /// Runs <paramref name="op"/> (a dense or convolution op) with this activation's fused rule
    /// (<c>op.Run&lt;ReluRule&lt;T&gt;&gt;()</c>), or returns null when the activation has none.
    /// </summary>
    internal virtual Tensor<T>? Fuse<T, TOp>(TOp op) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IActivationFusion<T>
        => null;

    /// <summary>f of one named number (the scalar view the explainer reads).</summary>
    public abstract Value Apply(Value x, string name);

    /// <inheritdoc/>
    public override string Description => "applies " + DisplayName + " to every number";

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        new ItemWords(words, Syntax).End();
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
}

/// <summary>Applying and reading activations.</summary>
public static class Activations
{
    /// <summary>Applies <paramref name="activation"/> element-wise (<see cref="Activation.Apply{T}(Tensor{T})"/>).</summary>
    public static Tensor<T> Apply<T>(this Tensor<T> x, Activation activation) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(activation);
        return activation.Apply(x);
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

/// <summary>An op an activation can be fused into: it runs with the activation's rule as a type argument (no switch, no boxing).</summary>
internal interface IActivationFusion<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Tensor<T> Run<TRule>() where TRule : struct, IActivationRule<T>;
}

/// <summary>f(x·W + b) as one op.</summary>
internal readonly struct LinearFusion<T>(Tensor<T> x, Tensor<T> weight, Tensor<T> bias) : IActivationFusion<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> Run<TRule>() where TRule : struct, IActivationRule<T> => TensorOps.Linear<T, TRule>(x, weight, bias);
}

/// <summary>f(conv(x, W) + b) as one op.</summary>
internal readonly struct ConvFusion<T>(Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, int stride, int padding) : IActivationFusion<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> Run<TRule>() where TRule : struct, IActivationRule<T> => TensorOps.Conv2d<T, TRule>(x, weight, bias, stride, padding);
}
