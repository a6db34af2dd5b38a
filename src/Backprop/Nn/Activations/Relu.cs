using System.Numerics;
using Backprop.Kernels;
using Backprop.Scalar;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>ReLU(x) = max(x, 0).</summary>
public sealed class ReluActivation : Activation
{
    private ReluActivation()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static ReluActivation Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "relu";

    /// <inheritdoc/>
    public override string DisplayName => "ReLU";

    /// <inheritdoc/>
    public override string? OnnxOperator => "Relu";

    /// <inheritdoc/>
    public override Tensor<T> Apply<T>(Tensor<T> x) => x.Relu();

    /// <inheritdoc/>
    internal override Tensor<T>? Fuse<T, TOp>(TOp op) => op.Run<ReluRule<T>>();

    /// <inheritdoc/>
    public override Value Apply(Value x, string name) => x.Relu(name);
}

// ReLU's rules: element-wise (the op relu) and fused in place into a dense or convolution layer (linear_relu).
internal readonly struct ReluRule<T> : IUnaryRule<T>, IActivationRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static string IUnaryRule<T>.Name => "relu";

    static string IActivationRule<T>.Name => "linear_relu";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.Relu(x, y);

    // d/dx max(x, 0) = 1 for x > 0 (where y > 0), else 0 (0 at the kink, as PyTorch does)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => ActivationKernels.ReluBackward(y, dy, dx, accumulate: true);

    public static bool KeepsDerivative => false;

    public static void Apply(Span<T> z, Span<T> derivative) => ActivationKernels.Relu(z, z);

    // d/dz max(z, 0) = 1 where y > 0, else 0
    public static void ToPreActivationGradient(ReadOnlySpan<T> y, ReadOnlySpan<T> derivative, Span<T> dy)
        => ActivationKernels.ReluBackward(y, dy, dy);
}
