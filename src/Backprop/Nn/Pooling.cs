using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// What max and average pooling share: images [batch, channels, height, width] pooled over k×k windows
/// moved by a stride; no parameters.
/// </summary>
public abstract class Pool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected Pool2d(int kernelSize, int? stride)
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
    public sealed override Tensor<T> Forward(Tensor<T> input) => Pool(Check(input, KernelSize, Kind!.DisplayName));

    /// <inheritdoc/>
    public sealed override string Describe() => Pool2dKind.Text(Kind!.DisplayName, KernelSize, Stride);

    /// <summary>The pooling op on images the windows fit.</summary>
    private protected abstract Tensor<T> Pool(Tensor<T> images);

    /// <summary>The checks the pooling layers share, as messages for people: <paramref name="input"/> itself when it passes.</summary>
    internal static Tensor<T> Check(Tensor<T> input, int kernelSize, string layer)
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

/// <summary>Max pooling of images [batch, channels, height, width] over k×k windows; no parameters.</summary>
public sealed class MaxPool2d<T> : Pool2d<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools over <paramref name="kernelSize"/>×<paramref name="kernelSize"/> windows moved by <paramref name="stride"/> (default: the kernel size).</summary>
    public MaxPool2d(int kernelSize, int? stride = null)
        : base(kernelSize, stride)
    {
    }

    /// <inheritdoc/>
    public override LayerKind Kind => MaxPool2dKind.Instance;

    private protected override Tensor<T> Pool(Tensor<T> images) => images.MaxPool2d(KernelSize, Stride);
}

/// <summary>Average pooling of images [batch, channels, height, width] over k×k windows; no parameters.</summary>
public sealed class AvgPool2d<T> : Pool2d<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools over <paramref name="kernelSize"/>×<paramref name="kernelSize"/> windows moved by <paramref name="stride"/> (default: the kernel size).</summary>
    public AvgPool2d(int kernelSize, int? stride = null)
        : base(kernelSize, stride)
    {
    }

    /// <inheritdoc/>
    public override LayerKind Kind => AvgPool2dKind.Instance;

    private protected override Tensor<T> Pool(Tensor<T> images) => images.AvgPool2d(KernelSize, Stride);
}

/// <summary>The mean of each channel: images [batch, channels, height, width] become [batch, channels]; no parameters.</summary>
public sealed class GlobalAvgPool<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override LayerKind Kind => GlobalAvgPoolKind.Instance;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input) => Pool2d<T>.Check(input, 1, "GlobalAvgPool").GlobalAvgPool();

    /// <inheritdoc/>
    public override string Describe() => "GlobalAvgPool";
}

/// <summary>
/// What the two windowed pooling kinds share: <c>maxpool K [stride S]</c> (or <c>maxpool2d …</c>), <c>avgpool …</c>; fields <c>kernel</c> and
/// <c>stride</c>; no arrays; images [C, H, W] become [C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1].
/// </summary>
public abstract class Pool2dKind : LayerKind
{
    private protected Pool2dKind()
    {
    }

    /// <summary>The ONNX operator: <c>MaxPool</c> or <c>AveragePool</c>.</summary>
    private protected abstract string OnnxOperator { get; }

    /// <summary>The module for windows of <paramref name="kernel"/> moved by <paramref name="stride"/>.</summary>
    private protected abstract Module<T> Create<T>(int kernel, int stride) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A module of this kind, or an exception naming what <paramref name="layer"/> is.</summary>
    private protected abstract Pool2d<T> AsPool<T>(Module<T> layer) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <inheritdoc/>
    public override IReadOnlyList<string> Keywords => [Name[..^2], Name];

    /// <inheritdoc/>
    public override int? InputRank => 3;

    /// <inheritdoc/>
    public override string Syntax => Keywords[0] + " K [stride S]";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => (Name + " 2", new Shape(2, 5, 4));

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        var w = new ItemWords(words, Syntax);
        var kernel = w.Positive("K");
        var stride = w.Option("stride", 1) ?? kernel;
        w.End();
        return new LayerFields().Add("kernel", kernel).Add("stride", stride);
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input)
    {
        var (kernel, stride) = Check(fields, input);
        return new Shape(input[0], ((input[1] - kernel) / stride) + 1, ((input[2] - kernel) / stride) + 1);
    }

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input)
    {
        var (kernel, stride) = Check(fields, input);
        return Create<T>(kernel, stride);
    }

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer)
    {
        var pool = AsPool(layer);
        return new LayerFields().Add("kernel", pool.KernelSize).Add("stride", pool.Stride);
    }

    /// <summary>The pooling operator with <c>kernel_shape</c> and <c>strides</c> (no padding, floor rounding: ONNX's defaults).</summary>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var pool = AsPool(layer);
        return graph.Node(OnnxOperator, [input], name + ".out",
            OnnxAttr.Ints("kernel_shape", pool.KernelSize, pool.KernelSize), OnnxAttr.Ints("strides", pool.Stride, pool.Stride));
    }

    /// <inheritdoc/>
    public override string Label(LayerFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var kernel = fields.Int("kernel");
        return Text(DisplayName, kernel, fields.Int("stride", kernel));
    }

    /// <summary>The layer's name with its window and stride (when not the window's size): <c>MaxPool2d(2×2)</c>, <c>AvgPool2d(3×3, stride 2)</c>.</summary>
    internal static string Text(string displayName, int kernel, int stride) => $"{displayName}({kernel}×{kernel}{(stride != kernel ? $", stride {stride}" : "")})";

    private (int Kernel, int Stride) Check(LayerFields fields, Shape input)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (input.Rank != 3)
        {
            throw new BackpropException($"{Name} takes images [channels, height, width], not examples of shape {input}");
        }
        var kernel = fields.PositiveInt("kernel");
        var stride = fields.Int("stride", kernel, 1);
        if (input[1] < kernel || input[2] < kernel)
        {
            throw new BackpropException($"a {kernel}×{kernel} window does not fit images of {input[1]}×{input[2]}");
        }
        return (kernel, stride);
    }
}

/// <summary>Max pooling's kind: <c>maxpool K [stride S]</c>; ONNX MaxPool.</summary>
public sealed class MaxPool2dKind : Pool2dKind
{
    private MaxPool2dKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static MaxPool2dKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "maxpool2d";

    /// <inheritdoc/>
    public override string DisplayName => "MaxPool2d";

    /// <inheritdoc/>
    public override string Description => "the largest number of each K×K window of each channel (stride K by default)";

    private protected override string OnnxOperator => "MaxPool";

    private protected override Module<T> Create<T>(int kernel, int stride) => new MaxPool2d<T>(kernel, stride);

    private protected override Pool2d<T> AsPool<T>(Module<T> layer) => Expect<MaxPool2d<T>>(layer);
}

/// <summary>Average pooling's kind: <c>avgpool K [stride S]</c>; ONNX AveragePool.</summary>
public sealed class AvgPool2dKind : Pool2dKind
{
    private AvgPool2dKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static AvgPool2dKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "avgpool2d";

    /// <inheritdoc/>
    public override string DisplayName => "AvgPool2d";

    /// <inheritdoc/>
    public override string Description => "the mean of each K×K window of each channel (stride K by default)";

    private protected override string OnnxOperator => "AveragePool";

    private protected override Module<T> Create<T>(int kernel, int stride) => new AvgPool2d<T>(kernel, stride);

    private protected override Pool2d<T> AsPool<T>(Module<T> layer) => Expect<AvgPool2d<T>>(layer);
}

/// <summary>Global average pooling's kind: <c>globalavgpool</c>; images [C, H, W] become [C]; ONNX GlobalAveragePool then Flatten.</summary>
public sealed class GlobalAvgPoolKind : LayerKind
{
    private GlobalAvgPoolKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static GlobalAvgPoolKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "globalavgpool";

    /// <inheritdoc/>
    public override string DisplayName => "GlobalAvgPool";

    /// <inheritdoc/>
    public override string Description => "the mean of each channel: images [C, H, W] become rows of C numbers";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => (Name, new Shape(3, 4, 5));

    /// <inheritdoc/>
    public override int? InputRank => 3;

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        new ItemWords(words, Syntax).End();
        return new LayerFields();
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input)
        => input.Rank == 3 ? new Shape(input[0]) : throw new BackpropException($"globalavgpool takes images [channels, height, width], not examples of shape {input}");

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input)
    {
        _ = OutputShape(fields, input);
        return new GlobalAvgPool<T>();
    }

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer)
    {
        _ = Expect<GlobalAvgPool<T>>(layer);
        return new LayerFields();
    }

    /// <summary>GlobalAveragePool gives [N, C, 1, 1]; Flatten makes it [N, C] as the layer does.</summary>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var pooled = graph.Node("GlobalAveragePool", [input], name + ".pooled");
        return graph.Node("Flatten", [pooled], name + ".out", OnnxAttr.Int("axis", 1));
    }
}
