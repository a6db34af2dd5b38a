using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

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
/// fan-in C·k·k and fan-out O·k·k. Its kind is <see cref="Conv2dKind"/>.
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
    /// <param name="activation">The function applied to the result (fused into the same operation); <see cref="Activation.Identity"/> when null.</param>
    /// <param name="name">The layer's name; its parameters are named after it.</param>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
        Activation? activation = null, string name = "conv")
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
        Activation = activation ?? Activation.Identity;
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
        return Activation.Conv2d(input, Weight, Bias, Stride, Padding);
    }

    /// <inheritdoc/>
    public override LayerKind Kind => Conv2dKind.Instance;

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
            + (Bias is null ? ", no bias" : "") + (Activation != Activation.Identity ? $", {Activation.DisplayName}" : "") + ")";
}

/// <summary>
/// The convolution's kind: <c>conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]</c> (or <c>conv2d …</c>); fields
/// <c>inChannels</c>, <c>outChannels</c>, <c>kernel</c>, <c>stride</c>, <c>padding</c>, <c>bias</c>,
/// <c>activation</c>; arrays <c>weight</c> [O, C, k, k] and <c>bias</c> [O]; ONNX Conv then the activation's operator.
/// </summary>
public sealed class Conv2dKind : LayerKind
{
    private Conv2dKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static Conv2dKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "conv2d";

    /// <inheritdoc/>
    public override string DisplayName => "Conv2d";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Keywords => ["conv", Name];

    /// <inheritdoc/>
    public override int? InputRank => 3;

    /// <inheritdoc/>
    public override string Syntax => "conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]";

    /// <inheritdoc/>
    public override string Description => "f(conv(x, W) + b) on images [C, H, W]: CHANNELS kernels of KERNEL×KERNEL (ACTIVATION fused in, identity by default)";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => ("conv2d 3 3 stride 2 pad 1 tanh", new Shape(2, 5, 5));

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        var w = new ItemWords(words, Syntax);
        var fields = new LayerFields().Add("outChannels", w.Positive("CHANNELS")).Add("kernel", w.Positive("KERNEL"));
        // Options in any order, each at most once: stride S, pad P, nobias, an activation.
        int? stride = null, padding = null;
        bool? bias = null;
        Activation? activation = null;
        while (!w.AtEnd)
        {
            var before = w.Position;
            if (stride is null && w.Option("stride", 1) is { } s)
            {
                stride = s;
            }
            else if (padding is null && (w.Option("pad", 0) ?? w.Option("padding", 0)) is { } p)
            {
                padding = p;
            }
            else if (bias is null && w.Flag("nobias"))
            {
                bias = false;
            }
            else if (activation is null && w.Activation() is { } a)
            {
                activation = a;
            }
            if (w.Position == before)
            {
                throw w.Expected($"'{w.Peek}' is not one of its words, or is given twice");
            }
        }
        return fields.Add("stride", stride ?? 1).Add("padding", padding ?? 0).Add("bias", bias ?? true).Add("activation", (activation ?? Activation.Identity).Name);
    }

    /// <inheritdoc/>
    public override LayerFields? FuseActivation(LayerFields fields, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(activation);
        return fields.Text("activation") == Activation.Identity.Name ? fields.Copy().Add("activation", activation.Name) : null;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input)
    {
        var s = Check(fields, input);
        return new Shape(s.Out, Size(input[1], s), Size(input[2], s));
    }

    /// <inheritdoc/>
    public override IReadOnlyList<LayerArray> Arrays(LayerFields fields, Shape input)
    {
        var s = Check(fields, input);
        var weight = new LayerArray("weight", new Shape(s.Out, s.In, s.Kernel, s.Kernel));
        return s.Bias ? [weight, new("bias", new Shape(s.Out))] : [weight];
    }

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input)
    {
        var s = Check(fields, input);
        return new Conv2d<T>(s.In, s.Out, s.Kernel, s.Stride, s.Padding, s.Bias, s.Activation);
    }

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer)
    {
        var conv = Expect<Conv2d<T>>(layer);
        return new LayerFields()
            .Add("inChannels", conv.InChannels)
            .Add("outChannels", conv.OutChannels)
            .Add("kernel", conv.KernelSize)
            .Add("stride", conv.Stride)
            .Add("padding", conv.Padding)
            .Add("bias", conv.Bias is not null)
            .Add("activation", conv.Activation.Name);
    }

    /// <summary>Weights drawn for fan-in C·k·k and fan-out O·k·k, biases 0.</summary>
    public override void Initialize<T>(Module<T> layer, Initializer initializer)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        var conv = Expect<Conv2d<T>>(layer);
        initializer.Fill(conv.Weight.Data, conv.FanIn, conv.FanOut);
        conv.Bias?.Data.Clear();
    }

    /// <summary>Conv (weight [O, C, k, k], bias [O], strides, pads on every side), then the activation's operator.</summary>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var conv = Expect<Conv2d<T>>(layer);
        var w = graph.Initializer(conv.Weight.Name!, conv.Weight.Shape, (ReadOnlySpan<T>)conv.Weight.Data);
        string[] inputs = conv.Bias is { } bias ? [input, w, graph.Initializer(bias.Name!, bias.Shape, (ReadOnlySpan<T>)bias.Data)] : [input, w];
        var k = conv.KernelSize;
        var p = conv.Padding;
        var sums = graph.Node("Conv", inputs, name + ".sums",
            OnnxAttr.Ints("kernel_shape", k, k), OnnxAttr.Ints("strides", conv.Stride, conv.Stride), OnnxAttr.Ints("pads", p, p, p, p));
        return conv.Activation.OnnxOperator is { } op ? graph.Node(op, [sums], name + ".out") : sums;
    }

    /// <inheritdoc/>
    public override string Label(LayerFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var k = fields.Int("kernel");
        var activation = Activations.Parse(fields.Text("activation"));
        return $"Conv2d({fields.Int("outChannels")}, {k}×{k}"
            + (fields.Int("stride", 1) != 1 ? $", stride {fields.Int("stride")}" : "")
            + (fields.Int("padding", 0) != 0 ? $", pad {fields.Int("padding")}" : "")
            + (fields.Bool("bias", true) ? "" : ", no bias")
            + (activation == Activation.Identity ? "" : $", {activation.DisplayName}") + ")";
    }

    private static int Size(int size, Settings s) => ((size + (2 * s.Padding) - s.Kernel) / s.Stride) + 1;

    private readonly record struct Settings(int In, int Out, int Kernel, int Stride, int Padding, bool Bias, Activation Activation);

    private static Settings Check(LayerFields fields, Shape input)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (input.Rank != 3)
        {
            throw new BackpropException($"conv2d takes images [channels, height, width], not examples of shape {input}");
        }
        var s = new Settings(input[0], fields.PositiveInt("outChannels"), fields.PositiveInt("kernel"),
            fields.Int("stride", 1, 1), fields.Int("padding", 0, 0), fields.Bool("bias", true), Activations.Parse(fields.Text("activation")));
        if (fields.Has("inChannels") && fields.Int("inChannels") != s.In)
        {
            throw new BackpropException($"it takes {fields.Int("inChannels")} channels but the layer before it gives {s.In}");
        }
        if (input[1] + (2 * s.Padding) < s.Kernel || input[2] + (2 * s.Padding) < s.Kernel)
        {
            throw new BackpropException($"a {s.Kernel}×{s.Kernel} kernel does not fit images of {input[1]}×{input[2]}{(s.Padding > 0 ? $" with padding {s.Padding}" : "")}");
        }
        return s;
    }
}
