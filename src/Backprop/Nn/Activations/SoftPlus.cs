using System.Numerics;
using Backprop.Kernels;
using Backprop.Scalar;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>SoftPlus(x) = log(1 + eˣ), the lesson's hidden-node activation; computed as max(x, 0) + log1p(e^−|x|), stable for any x.</summary>
public sealed class SoftPlusActivation : Activation
{
    private SoftPlusActivation()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static SoftPlusActivation Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "softplus";

    /// <inheritdoc/>
    public override string DisplayName => "SoftPlus";

    /// <inheritdoc/>
    public override string? OnnxOperator => "Softplus";

    /// <inheritdoc/>
    public override Tensor<T> Apply<T>(Tensor<T> x) => x.SoftPlus();

    /// <inheritdoc/>
    internal override Tensor<T>? Fuse<T, TOp>(TOp op) => op.Run<SoftPlusRule<T>>();

    /// <inheritdoc/>
    public override Value Apply(Value x, string name) => x.SoftPlus(name);
}

// SoftPlus's rules: element-wise (the op softplus) and fused in place into a dense or convolution layer (linear_softplus).
internal readonly struct SoftPlusRule<T> : IUnaryRule<T>, IActivationRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static string IUnaryRule<T>.Name => "softplus";

    static string IActivationRule<T>.Name => "linear_softplus";

    // SoftPlus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): stable for any x.
    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.SoftPlus(x, y);

    // d/dx SoftPlus(x) = eˣ/(1 + eˣ) = σ(x)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
    {
        Span<T> sigmoid = stackalloc T[Math.Min(x.Length, 256)];
        for (var start = 0; start < x.Length; start += sigmoid.Length)
        {
            var n = Math.Min(sigmoid.Length, x.Length - start);
            ActivationKernels.Sigmoid(x.Slice(start, n), sigmoid[..n]);
            ActivationKernels.MultiplyBackward(sigmoid[..n], dy.Slice(start, n), dx.Slice(start, n), accumulate: true);
        }
    }

    public static bool KeepsDerivative => true;

    public static void Apply(Span<T> z, Span<T> derivative) => ActivationKernels.SoftPlus(z, z, derivative);

    // d/dz SoftPlus(z) = σ(z), kept from the forward pass
    public static void ToPreActivationGradient(ReadOnlySpan<T> y, ReadOnlySpan<T> derivative, Span<T> dy)
        => ActivationKernels.MultiplyBackward(derivative, dy, dy);
}
