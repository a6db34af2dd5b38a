using System.Numerics;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>
/// A 2-D convolution layer on images [batch, channels, height, width]:
/// output = f(conv(input, W) + b), with W [out channels, in channels, k, k] and b [out channels].
/// </summary>
/// <remarks>
/// Square kernels, one stride and zero padding on every side, as PyTorch's <c>nn.Conv2d</c> with
/// those arguments. The convolution, the bias and the activation are recorded as one operation
/// (<see cref="TensorOps.Conv2d{T}"/>, running on the packed GEMM). Its parameters are named
/// <c>{name}.weight</c> and <c>{name}.bias</c>; an <see cref="Initializer"/> draws the weights with
/// fan-in C·k·k and fan-out O·k·k.
/// </remarks>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero-initialised layer; use an <see cref="Initializer"/> to set its weights.</summary>
    /// <param name="inChannels">Channels of the input images.</param>
    /// <param name="outChannels">Channels of the output (the number of kernels).</param>
    /// <param name="kernelSize">The kernels' height and width.</param>
    /// <param name="stride">Step between neighbouring kernel positions.</param>
    /// <param name="padding">Zeros added on every side of each image.</param>
    /// <param name="bias">Whether the layer adds a bias per output channel.</param>
    /// <param name="activation">The function applied to the result (fused into the same operation).</param>
    /// <param name="name">The layer's name; its parameters are named after it.</param>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
        Activation activation = Activation.Identity, string name = "conv")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Activation = activation;
        Name = name;
        Weight = new Parameter<T>(name + ".weight", new Shape(outChannels, inChannels, kernelSize, kernelSize));
        Bias = bias ? new Parameter<T>(name + ".bias", new Shape(outChannels)) : null;
    }

    /// <summary>The layer's name (<c>layer0</c>).</summary>
    public string Name { get; private set; }

    /// <summary>Channels of the input images.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>The kernels' height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Step between neighbouring kernel positions.</summary>
    public int Stride { get; }

    /// <summary>Zeros added on every side of each image.</summary>
    public int Padding { get; }

    /// <summary>The activation applied to the result.</summary>
    public Activation Activation { get; }

    /// <summary>The kernels, [out channels, in channels, k, k].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The biases, [out channels], or null for a layer without bias.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>Fan-in of one output: C·k·k inputs.</summary>
    public int FanIn => InChannels * KernelSize * KernelSize;

    /// <summary>Fan-out of one input: O·k·k outputs (as PyTorch counts it).</summary>
    public int FanOut => OutChannels * KernelSize * KernelSize;

    /// <summary>The output height or width for an input of <paramref name="size"/>: ⌊(size + 2p − k)/s⌋ + 1.</summary>
    public int OutputSize(int size) => ((size + (2 * Padding) - KernelSize) / Stride) + 1;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 4 || input.Shape[1] != InChannels)
        {
            throw new BackpropException($"Layer {Name} takes images [batch, {InChannels}, height, width]; it was given shape {input.Shape}.");
        }
        if (input.Shape[2] + (2 * Padding) < KernelSize || input.Shape[3] + (2 * Padding) < KernelSize)
        {
            throw new BackpropException($"Layer {Name}: a {KernelSize}×{KernelSize} kernel does not fit images of {input.Shape[2]}×{input.Shape[3]} with padding {Padding}.");
        }
        return Activation switch
        {
            Activation.Identity => TensorOps.Conv2d<T, IdentityActivation<T>>(input, Weight, Bias, Stride, Padding),
            Activation.SoftPlus => TensorOps.Conv2d<T, SoftPlusActivation<T>>(input, Weight, Bias, Stride, Padding),
            Activation.Relu => TensorOps.Conv2d<T, ReluActivation<T>>(input, Weight, Bias, Stride, Padding),
            Activation.Sigmoid => TensorOps.Conv2d<T, SigmoidActivation<T>>(input, Weight, Bias, Stride, Padding),
            Activation.Tanh => TensorOps.Conv2d<T, TanhActivation<T>>(input, Weight, Bias, Stride, Padding),
            _ => throw new ArgumentOutOfRangeException(nameof(input), Activation, null),
        };
    }

    /// <inheritdoc/>
    public override IEnumerable<Parameter<T>> Parameters() => Bias is null ? [Weight] : [Weight, Bias];

    /// <inheritdoc/>
    public override void SetName(string prefix)
    {
        Name = prefix;
        Weight.Rename(prefix + ".weight");
        Bias?.Rename(prefix + ".bias");
    }

    /// <inheritdoc/>
    public override string Describe()
        => $"Conv2d({InChannels} → {OutChannels}, {KernelSize}×{KernelSize}"
            + (Stride != 1 ? $", stride {Stride}" : "") + (Padding != 0 ? $", padding {Padding}" : "")
            + (Bias is null ? ", no bias" : "") + (Activation != Activation.Identity ? $", {Activation.DisplayName()}" : "") + ")";
}
