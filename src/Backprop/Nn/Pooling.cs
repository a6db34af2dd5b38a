using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>Max pooling of images [batch, channels, height, width] over k×k windows; no parameters.</summary>
public sealed class MaxPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools over <paramref name="kernelSize"/>×<paramref name="kernelSize"/> windows moved by <paramref name="stride"/> (default: the kernel size).</summary>
    public MaxPool2d(int kernelSize, int? stride = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride ?? kernelSize, nameof(stride));
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
    }

    /// <summary>The windows' height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Step between neighbouring windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input) => Pool2d.Check(input, KernelSize, "MaxPool2d").MaxPool2d(KernelSize, Stride);

    /// <inheritdoc/>
    public override string Describe() => $"MaxPool2d({KernelSize}×{KernelSize}{(Stride != KernelSize ? $", stride {Stride}" : "")})";
}

/// <summary>Average pooling of images [batch, channels, height, width] over k×k windows; no parameters.</summary>
public sealed class AvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools over <paramref name="kernelSize"/>×<paramref name="kernelSize"/> windows moved by <paramref name="stride"/> (default: the kernel size).</summary>
    public AvgPool2d(int kernelSize, int? stride = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride ?? kernelSize, nameof(stride));
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
    }

    /// <summary>The windows' height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Step between neighbouring windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input) => Pool2d.Check(input, KernelSize, "AvgPool2d").AvgPool2d(KernelSize, Stride);

    /// <inheritdoc/>
    public override string Describe() => $"AvgPool2d({KernelSize}×{KernelSize}{(Stride != KernelSize ? $", stride {Stride}" : "")})";
}

/// <summary>The mean of each channel: images [batch, channels, height, width] become [batch, channels]; no parameters.</summary>
public sealed class GlobalAvgPool<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input) => Pool2d.Check(input, 1, "GlobalAvgPool").GlobalAvgPool();

    /// <inheritdoc/>
    public override string Describe() => "GlobalAvgPool";
}

/// <summary>The checks the pooling layers share, as messages for people.</summary>
internal static class Pool2d
{
    public static Tensor<T> Check<T>(Tensor<T> input, int kernelSize, string layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 4)
        {
            throw new BackpropException($"{layer} takes images [batch, channels, height, width]; it was given shape {input.Shape}.");
        }
        if (input.Shape[2] < kernelSize || input.Shape[3] < kernelSize)
        {
            throw new BackpropException($"{layer}: a {kernelSize}×{kernelSize} window does not fit images of {input.Shape[2]}×{input.Shape[3]}.");
        }
        return input;
    }
}
