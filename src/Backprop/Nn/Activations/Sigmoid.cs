using System.Numerics;
using Backprop.Kernels;
using Backprop.Scalar;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>σ(x) = 1/(1 + e^−x), computed without overflow for large |x|.</summary>
public sealed class SigmoidActivation : Activation
{
    private SigmoidActivation()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static SigmoidActivation Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "sigmoid";

    /// <inheritdoc/>
    public override string DisplayName => "Sigmoid";

    /// <inheritdoc/>
    public override string? OnnxOperator => "Sigmoid";

    /// <inheritdoc/>
    public override Tensor<T> Apply<T>(Tensor<T> x) => x.Sigmoid();

    /// <inheritdoc/>
    internal override Tensor<T>? Fuse<T, TOp>(TOp op) => op.Run<SigmoidRule<T>>();

    /// <inheritdoc/>
    public override Value Apply(Value x, string name) => x.Sigmoid(name);
}

// Sigmoid's rules: element-wise (the op sigmoid) and fused in place into a dense or convolution layer (linear_sigmoid).
internal readonly struct SigmoidRule<T> : IUnaryRule<T>, IActivationRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static string IUnaryRule<T>.Name => "sigmoid";

    static string IActivationRule<T>.Name => "linear_sigmoid";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.Sigmoid(x, y);

    // d/dx σ(x) = σ(x)(1 − σ(x)) = y(1 − y)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => ActivationKernels.SigmoidBackward(y, dy, dx, accumulate: true);

    public static bool KeepsDerivative => false;

    public static void Apply(Span<T> z, Span<T> derivative) => ActivationKernels.Sigmoid(z, z);

    // d/dz σ(z) = y(1 − y)
    public static void ToPreActivationGradient(ReadOnlySpan<T> y, ReadOnlySpan<T> derivative, Span<T> dy)
        => ActivationKernels.SigmoidBackward(y, dy, dy);
}
