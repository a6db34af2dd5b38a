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
/// Runs a pooling kernel on groups of planes on the <see cref="WorkerPool"/>: planes never share an
/// input or output element, so every element is computed by the same operations at any thread count.
/// </summary>
internal abstract class PoolOp<T> : Op<T>, IParallelJob where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Most groups of planes per call.</summary>
    private const int MaxGroups = 16;

    /// <summary>Planes below this many input elements are pooled on the calling thread.</summary>
    private const int ParallelElements = 1 << 16;

    private readonly int groups;
    private bool backward;

    protected PoolOp(string name, Tensor<T> x, PoolGeometry g) : base(name, Pooling.OutputShape(x, g), x)
    {
        X = x;
        Geometry = g;
        groups = Math.Min(g.Planes, MaxGroups);
    }

    protected Tensor<T> X { get; }

    protected PoolGeometry Geometry { get; }

    public sealed override void Forward()
    {
        backward = false;
        RunGroups();
    }

    // Each group zeroes its own planes of dx just before adding to them (in cache, on its thread).
    internal override bool SetsGradientOf(int index) => true;

    public sealed override void Backward()
    {
        if (X.RequiresGrad)
        {
            backward = true;
            RunGroups();
        }
    }

    private void RunGroups()
        => WorkerPool.Shared.Run(this, groups, Geometry.InputLength < ParallelElements ? 1 : Parallelism.MaxDegreeOfParallelism);

    public void Execute(int task)
    {
        int first = (int)((long)task * Geometry.Planes / groups), last = (int)((long)(task + 1) * Geometry.Planes / groups);
        var g = Geometry with { Planes = last - first };
        int inPlane = g.H * g.W, outPlane = g.OH * g.OW;
        if (backward)
        {
            var dx = X.GradData.AsSpan(first * inPlane, g.InputLength);
            if (MustSetGradientOf(0))
            {
                dx.Clear();
            }
            Backward(g, Output.GradData.AsSpan(first * outPlane, g.OutputLength), dx, first * outPlane);
        }
        else
        {
            Forward(g, X.Data.Slice(first * inPlane, g.InputLength), Output.Data.Slice(first * outPlane, g.OutputLength), first * outPlane);
        }
    }

    /// <summary>Pools the planes of <paramref name="x"/> into <paramref name="y"/>; <paramref name="outputStart"/> is y's offset in the whole output.</summary>
    protected abstract void Forward(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y, int outputStart);

    /// <summary>Adds the planes' input gradient to <paramref name="dx"/> from <paramref name="dy"/>.</summary>
    protected abstract void Backward(in PoolGeometry g, ReadOnlySpan<T> dy, Span<T> dx, int outputStart);
}

/// <summary>
/// Max pooling: y[n, c, oy, ox] = max over the K×K window at (oy·s, ox·s) of x[n, c] (no padding).
/// </summary>
/// <remarks>
/// Keeps, per output, the index of the element it took; ∂y/∂x is 1 there and 0 elsewhere, so
/// backward adds each output's gradient to that one element (to the first of equal maxima, as PyTorch does).
/// </remarks>
internal sealed class MaxPool2dOp<T>(Tensor<T> x, PoolGeometry g) : PoolOp<T>("maxpool2d", x, g)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Indices into each group's own slice of the input.
    private readonly int[] argmax = new int[g.OutputLength];

    protected override void Forward(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y, int outputStart)
        => PoolKernels.MaxForward(g, x, y, argmax.AsSpan(outputStart, g.OutputLength));

    // ∂y_o/∂x_i = [i = argmax_o]
    protected override void Backward(in PoolGeometry g, ReadOnlySpan<T> dy, Span<T> dx, int outputStart)
        => PoolKernels.MaxBackward(dy, argmax.AsSpan(outputStart, g.OutputLength), dx);
}

/// <summary>
/// Average pooling: y[n, c, oy, ox] = (1/K²) Σ over the K×K window at (oy·s, ox·s) of x[n, c] (no padding).
/// </summary>
/// <remarks>∂y/∂x = 1/K² for each element of the window: backward spreads dy/K² over it.</remarks>
internal sealed class AvgPool2dOp<T>(Tensor<T> x, PoolGeometry g) : PoolOp<T>("avgpool2d", x, g)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    protected override void Forward(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y, int outputStart)
        => PoolKernels.AverageForward(g, x, y);

    // ∂y_o/∂x_i = 1/K² for i in o's window
    protected override void Backward(in PoolGeometry g, ReadOnlySpan<T> dy, Span<T> dx, int outputStart)
        => PoolKernels.AverageBackward(g, dy, dx);
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
