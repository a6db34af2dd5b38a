using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>An element-wise function y = f(x) with its derivative rule.</summary>
internal interface IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract string Name { get; }

    /// <summary>y = f(x).</summary>
    static abstract void Forward(ReadOnlySpan<T> x, Span<T> y);

    /// <summary>dx += dy · f′(x), given x and y = f(x).</summary>
    static abstract void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx);
}

/// <summary>Applies an element-wise rule to a tensor of any shape.</summary>
internal sealed class UnaryOp<T, TRule>(Tensor<T> x) : Op<T>(TRule.Name, x.Shape, x)
    where T : unmanaged, IFloatingPointIeee754<T>
    where TRule : struct, IUnaryRule<T>
{
    public override void Forward() => TRule.Forward(x.Data, Output.Data);

    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            TRule.Backward(x.Data, Output.Data, Output.GradData, x.GradData);
        }
    }
}

// The rules, each derivative beside its forward.

internal readonly struct IdentityRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "identity";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => x.CopyTo(y);

    // d/dx x = 1
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => TensorPrimitives.Add(dx, dy, dx);
}

internal readonly struct SquareRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "square";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, x, y);

    // d/dx x² = 2x
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
    {
        var two = T.One + T.One;
        for (var i = 0; i < dx.Length; i++)
        {
            dx[i] += two * x[i] * dy[i];
        }
    }
}

internal readonly struct ExpRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "exp";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Exp(x, y);

    // d/dx eˣ = eˣ = y
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => TensorPrimitives.MultiplyAdd(dy, y, dx, dx);
}

internal readonly struct LogRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "log";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Log(x, y);

    // d/dx log x = 1/x
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
    {
        for (var i = 0; i < dx.Length; i++)
        {
            dx[i] += dy[i] / x[i];
        }
    }
}

internal readonly struct SoftPlusRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "softplus";

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
}

internal readonly struct ReluRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "relu";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.Relu(x, y);

    // d/dx max(x, 0) = 1 for x > 0 (where y > 0), else 0 (0 at the kink, as PyTorch does)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => ActivationKernels.ReluBackward(y, dy, dx, accumulate: true);
}

internal readonly struct SigmoidRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "sigmoid";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.Sigmoid(x, y);

    // d/dx σ(x) = σ(x)(1 − σ(x)) = y(1 − y)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => ActivationKernels.SigmoidBackward(y, dy, dx, accumulate: true);
}

internal readonly struct TanhRule<T> : IUnaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "tanh";

    public static void Forward(ReadOnlySpan<T> x, Span<T> y) => ActivationKernels.Tanh(x, y);

    // d/dx tanh x = 1 − tanh² x = sech² x, from x (1 − y² cancels where tanh saturates)
    public static void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        => ActivationKernels.TanhBackwardFromInput(x, dy, dx, accumulate: true);
}

/// <summary>y = c·x for a constant c (also division by a constant, and negation).</summary>
internal sealed class ScaleOp<T>(Tensor<T> x, T factor) : Op<T>("scale", x.Shape, x)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override void Forward() => TensorPrimitives.Multiply(x.Data, factor, Output.Data);

    // d/dx (c·x) = c
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            TensorPrimitives.MultiplyAdd(Output.GradData, factor, x.GradData, x.GradData);
        }
    }
}
