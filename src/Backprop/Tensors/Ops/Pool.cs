using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>Shape checks shared by the pooling ops.</summary>
internal static class Pooling
{
    /// <summary>The geometry of pooling <paramref name="x"/> [N, C, H, W] with K×K windows and a stride.</summary>
    public static PoolGeometry Geometry<T>(Tensor<T> x, int kernel, int stride, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Shape.Rank != 4)
        {
            throw new ArgumentException($"{what} takes images [batch, channels, height, width]; it was given shape {x.Shape}.", nameof(x));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        if (kernel > x.Shape[2] || kernel > x.Shape[3])
        {
            throw new ArgumentException($"{what}: a {kernel}×{kernel} window does not fit images of {x.Shape[2]}×{x.Shape[3]}.", nameof(kernel));
        }
        return new PoolGeometry(x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], kernel, stride);
    }

    public static Shape OutputShape<T>(Tensor<T> x, in PoolGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
        => new(x.Shape[0], x.Shape[1], g.OH, g.OW);
}

/// <summary>
/// Max pooling: y[n, c, oy, ox] = max over the K×K window at (oy·s, ox·s) of x[n, c] (no padding).
/// </summary>
/// <remarks>
/// Keeps, per output, the index of the element it took; ∂y/∂x is 1 there and 0 elsewhere, so
/// backward adds each output's gradient to that one element (to the first of equal maxima, as PyTorch does).
/// </remarks>
internal sealed class MaxPool2dOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> x;
    private readonly PoolGeometry g;
    private readonly int[] argmax;

    public MaxPool2dOp(Tensor<T> x, PoolGeometry g) : base("maxpool2d", Pooling.OutputShape(x, g), x)
    {
        this.x = x;
        this.g = g;
        argmax = new int[g.OutputLength];
    }

    public override void Forward() => PoolKernels.MaxForward<T>(g, x.Data, Output.Data, argmax);

    // ∂y_o/∂x_i = [i = argmax_o]
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            PoolKernels.MaxBackward<T>(Output.GradData, argmax, x.GradData);
        }
    }
}

/// <summary>
/// Average pooling: y[n, c, oy, ox] = (1/K²) Σ over the K×K window at (oy·s, ox·s) of x[n, c] (no padding).
/// </summary>
/// <remarks>∂y/∂x = 1/K² for each element of the window: backward spreads dy/K² over it.</remarks>
internal sealed class AvgPool2dOp<T>(Tensor<T> x, PoolGeometry g) : Op<T>("avgpool2d", Pooling.OutputShape(x, g), x)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override void Forward() => PoolKernels.AverageForward<T>(g, x.Data, Output.Data);

    // ∂y_o/∂x_i = 1/K² for i in o's window
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            PoolKernels.AverageBackward<T>(g, Output.GradData, x.GradData);
        }
    }
}

/// <summary>
/// Global average pooling: y[n, c] = (1/(H·W)) Σ over the plane x[n, c]; [N, C, H, W] becomes [N, C].
/// </summary>
/// <remarks>∂y[n, c]/∂x[n, c, i, j] = 1/(H·W): backward adds dy/(H·W) to every element of the plane.</remarks>
internal sealed class GlobalAvgPoolOp<T>(Tensor<T> x) : Op<T>("globalavgpool", OutputShape(x), x)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static Shape OutputShape(Tensor<T> x)
    {
        if (x.Shape.Rank != 4)
        {
            throw new ArgumentException($"Global average pooling takes images [batch, channels, height, width]; it was given shape {x.Shape}.", nameof(x));
        }
        return new Shape(x.Shape[0], x.Shape[1]);
    }

    private int PlaneLength => x.Shape[2] * x.Shape[3];

    public override void Forward() => PoolKernels.GlobalAverageForward<T>(x.Data, PlaneLength, Output.Data);

    // ∂y_p/∂x_i = 1/(H·W) for i in plane p
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            PoolKernels.GlobalAverageBackward<T>(Output.GradData, PlaneLength, x.GradData);
        }
    }
}
