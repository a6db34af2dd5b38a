using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;

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

// The rules, each derivative beside its forward (the activations' rules sit in their homes, Nn/Activations/).

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
