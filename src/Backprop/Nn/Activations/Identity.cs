using System.Numerics;
using Backprop.Scalar;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>f(x) = x: the output layer of a regression network.</summary>
public sealed class IdentityActivation : Activation
{
    private IdentityActivation()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static IdentityActivation Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "identity";

    /// <inheritdoc/>
    public override string DisplayName => "Identity";

    /// <inheritdoc/>
    public override string? OnnxOperator => null;

    /// <inheritdoc/>
    public override Tensor<T> Apply<T>(Tensor<T> x) => x.Identity();

    /// <inheritdoc/>
    internal override Tensor<T>? Fuse<T, TOp>(TOp op) => op.Run<IdentityRule<T>>();

    /// <summary>x itself: the scalar view records no node for the identity.</summary>
    public override Value Apply(Value x, string name) => x;
}

// The identity's rules: element-wise (the op identity) and fused in place into a dense or convolution layer (linear).
internal readonly struct IdentityRule<T> : IUnaryRule<T>, IActivationRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static string IUnaryRule<T>.Name => "identity";

    static string IActivationRule<T>.Name => "linear";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => x.CopyTo(y);

    // d/dx x = 1
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => System.Numerics.Tensors.TensorPrimitives.Add(dx, dy, dx);

    public static bool KeepsDerivative => false;

    public static void Apply(Span<T> z, Span<T> derivative)
    {
    }

    // f′ = 1: dz = dy
    public static void ToPreActivationGradient(ReadOnlySpan<T> y, ReadOnlySpan<T> derivative, Span<T> dy)
    {
    }
}
