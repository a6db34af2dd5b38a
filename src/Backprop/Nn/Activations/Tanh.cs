using System.Numerics;
using Backprop.Kernels;
using Backprop.Scalar;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>tanh x = (eˣ − e^−x)/(eˣ + e^−x).</summary>
public sealed class TanhActivation : Activation
{
    private TanhActivation()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static TanhActivation Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "tanh";

    /// <inheritdoc/>
    public override string DisplayName => "Tanh";

    /// <inheritdoc/>
    public override string? OnnxOperator => "Tanh";

    /// <inheritdoc/>
    public override Tensor<T> Apply<T>(Tensor<T> x) => x.Tanh();

    /// <inheritdoc/>
    internal override Tensor<T>? Fuse<T, TOp>(TOp op) => op.Run<TanhRule<T>>();

    /// <inheritdoc/>
    public override Value Apply(Value x, string name) => x.Tanh(name);
}

// Tanh's rules: element-wise (the op tanh) and fused in place into a dense or convolution layer (linear_tanh).
internal readonly struct TanhRule<T> : IUnaryRule<T>, IActivationRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static string IUnaryRule<T>.Name => "tanh";

    static string IActivationRule<T>.Name => "linear_tanh";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.Tanh(x, y);

    // d/dx tanh x = 1 − tanh² x = sech² x, from x (1 − y² cancels where tanh saturates)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => ActivationKernels.TanhBackwardFromInput(x, dy, dx, accumulate: true);

    // NOTE: 1 − y² from the output cancels where tanh saturates (7.6e-8 relative at |z| ≈ 10 in double),
    // so the forward pass keeps sech² z, computed from z before it is overwritten.
    public static bool KeepsDerivative => true;

    public static void Apply(Span<T> z, Span<T> derivative) => ActivationKernels.Tanh(z, z, derivative);

    // d/dz tanh z = sech² z, kept from the forward pass
    public static void ToPreActivationGradient(ReadOnlySpan<T> y, ReadOnlySpan<T> derivative, Span<T> dy)
        => ActivationKernels.MultiplyBackward(derivative, dy, dy);
}
