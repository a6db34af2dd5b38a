using System.Globalization;
using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// Batch normalisation (Ioffe &amp; Szegedy, 2015) over dimension 1 of its input, with PyTorch's
/// semantics: y = γ · (x − μ) / √(σ² + ε) + β per feature or channel. In training μ and σ² are the
/// batch's mean and biased variance and the running statistics are updated (momentum 0.1, the
/// variance unbiased); in evaluation the running statistics are used.
/// </summary>
/// <remarks>
/// γ starts at 1 and β at 0 (parameters <c>{name}.weight</c> and <c>{name}.bias</c>); the running
/// mean starts at 0 and the running variance at 1 (buffers <c>{name}.runningMean</c> and
/// <c>{name}.runningVar</c>: saved with the model and in checkpoints, never trained).
/// </remarks>
public abstract class BatchNorm<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected BatchNorm(int channels, double momentum, double epsilon, string name)
    {
        if (channels <= 0)
        {
            throw new BackpropException($"Batch normalisation needs at least one feature or channel; got {channels}.");
        }
        TensorOps.CheckBatchNormSettings(momentum, epsilon);
        Channels = channels;
        Momentum = momentum;
        Epsilon = epsilon;
        Name = name;
        Weight = new Parameter<T>(name + ".weight", new Shape(channels));
        Weight.Data.Fill(T.One);
        Bias = new Parameter<T>(name + ".bias", new Shape(channels));
        RunningMean = new Tensor<T>(new Shape(channels)) { Name = name + ".runningMean" };
        RunningVar = new Tensor<T>(new Shape(channels)) { Name = name + ".runningVar" };
        RunningVar.Data.Fill(T.One);
    }

    /// <summary>Number of features (BatchNorm1d) or channels (BatchNorm2d).</summary>
    public int Channels { get; }

    /// <summary>The running statistics' update weight (PyTorch's default 0.1).</summary>
    public double Momentum { get; }

    /// <summary>ε, added to the variance (PyTorch's default 1e-5).</summary>
    public double Epsilon { get; }

    /// <summary>The layer's name (<c>layer1</c>); its parameters and buffers are named after it.</summary>
    public string Name { get; private set; }

    /// <summary>γ, the scale, [channels].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>β, the shift, [channels].</summary>
    public Parameter<T> Bias { get; }

    /// <summary>The running mean, [channels].</summary>
    public Tensor<T> RunningMean { get; }

    /// <summary>The running (unbiased) variance, [channels].</summary>
    public Tensor<T> RunningVar { get; }

    /// <summary>The input ranks the layer takes and their description for messages.</summary>
    private protected abstract (int Rank, string Form) Input { get; }

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != Input.Rank || input.Shape[1] != Channels)
        {
            throw new BackpropException($"Layer {Name} ({Describe()}) takes {Input.Form} with {Channels} at dimension 1; it was given shape {input.Shape}.");
        }
        return input.BatchNorm(Weight, Bias, RunningMean, RunningVar, IsTraining, Momentum, Epsilon);
    }

    /// <inheritdoc/>
    public override IEnumerable<Parameter<T>> Parameters() => [Weight, Bias];

    /// <inheritdoc/>
    public override IEnumerable<Tensor<T>> Buffers() => [RunningMean, RunningVar];

    /// <inheritdoc/>
    public override void SetName(string prefix)
    {
        Name = prefix;
        Weight.Rename(prefix + ".weight");
        Bias.Rename(prefix + ".bias");
        RunningMean.Name = prefix + ".runningMean";
        RunningVar.Name = prefix + ".runningVar";
    }

    /// <summary>Settings that differ from PyTorch's defaults, for <see cref="Module{T}.Describe"/>.</summary>
    private protected string Settings()
        => (Momentum == 0.1 ? "" : string.Create(CultureInfo.InvariantCulture, $", momentum {Momentum}"))
            + (Epsilon == 1e-5 ? "" : string.Create(CultureInfo.InvariantCulture, $", eps {Epsilon}"));
}

/// <summary>Batch normalisation of the features of rows [N, F] (PyTorch's BatchNorm1d on 2-D input).</summary>
public sealed class BatchNorm1d<T> : BatchNorm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer for <paramref name="features"/> features.</summary>
    /// <exception cref="BackpropException">A count or setting is out of range.</exception>
    public BatchNorm1d(int features, double momentum = 0.1, double epsilon = 1e-5, string name = "batchnorm")
        : base(features, momentum, epsilon, name)
    {
    }

    private protected override (int Rank, string Form) Input => (2, "rows [N, F]");

    /// <inheritdoc/>
    public override LayerKind Kind => BatchNorm1dKind.Instance;

    /// <inheritdoc/>
    public override string Describe() => $"BatchNorm1d({Channels}{Settings()})";
}

/// <summary>Batch normalisation of the channels of images [N, C, H, W] (PyTorch's BatchNorm2d).</summary>
public sealed class BatchNorm2d<T> : BatchNorm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates the layer for <paramref name="channels"/> channels.</summary>
    /// <exception cref="BackpropException">A count or setting is out of range.</exception>
    public BatchNorm2d(int channels, double momentum = 0.1, double epsilon = 1e-5, string name = "batchnorm")
        : base(channels, momentum, epsilon, name)
    {
    }

    private protected override (int Rank, string Form) Input => (4, "images [N, C, H, W]");

    /// <inheritdoc/>
    public override LayerKind Kind => BatchNorm2dKind.Instance;

    /// <inheritdoc/>
    public override string Describe() => $"BatchNorm2d({Channels}{Settings()})";
}

/// <summary>
/// What the two batch-norm kinds share: <c>NAME [momentum M] [eps E]</c>; fields <c>channels</c>,
/// <c>momentum</c>, <c>epsilon</c>; arrays <c>weight</c> (γ), <c>bias</c> (β), then the buffers
/// <c>runningMean</c> and <c>runningVar</c>, all [channels]; ONNX BatchNormalization in inference form
/// (the running statistics).
/// </summary>
public abstract class BatchNormKind : LayerKind
{
    private protected BatchNormKind()
    {
    }

    /// <summary>The module for these settings.</summary>
    private protected abstract Module<T> Create<T>(int channels, double momentum, double epsilon) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary><c>batchnorm</c> for both kinds (BatchNorm1d on rows, BatchNorm2d on images), or the kind's name.</summary>
    public override IReadOnlyList<string> Keywords => ["batchnorm", Name];

    /// <inheritdoc/>
    public override string Syntax => "batchnorm [momentum M] [eps E]";

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        var w = new ItemWords(words, Syntax);
        double? momentum = null, epsilon = null;
        while (!w.AtEnd)
        {
            var before = w.Position;
            if (momentum is null && w.RealOption("momentum") is { } m)
            {
                momentum = m;
            }
            else if (epsilon is null && (w.RealOption("eps") ?? w.RealOption("epsilon")) is { } e)
            {
                epsilon = e;
            }
            if (w.Position == before)
            {
                throw w.Expected($"'{w.Peek}' is not one of its words, or is given twice");
            }
        }
        var fields = new LayerFields().Add("momentum", momentum ?? 0.1).Add("epsilon", epsilon ?? 1e-5);
        _ = Settings(fields);
        return fields;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input)
    {
        _ = Check(fields, input);
        return input;
    }

    /// <inheritdoc/>
    public override IReadOnlyList<LayerArray> Arrays(LayerFields fields, Shape input)
    {
        var shape = new Shape(Check(fields, input).Channels);
        return [new("weight", shape), new("bias", shape), new("runningMean", shape, Trained: false), new("runningVar", shape, Trained: false)];
    }

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input)
    {
        var (channels, momentum, epsilon) = Check(fields, input);
        return Create<T>(channels, momentum, epsilon);
    }

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer)
    {
        var bn = Expect<BatchNorm<T>>(layer);
        return new LayerFields().Add("channels", bn.Channels).Add("momentum", bn.Momentum).Add("epsilon", bn.Epsilon);
    }

    /// <summary>γ back to 1, β to 0, the running mean to 0 and the running variance to 1 (PyTorch's starting values); nothing is drawn.</summary>
    public override void Initialize<T>(Module<T> layer, Initializer initializer)
    {
        var bn = Expect<BatchNorm<T>>(layer);
        bn.Weight.Data.Fill(T.One);
        bn.Bias.Data.Clear();
        bn.RunningMean.Data.Clear();
        bn.RunningVar.Data.Fill(T.One);
    }

    /// <summary>A running variance is at least 0: a negative one would make evaluation's √(σ² + ε) undefined.</summary>
    public override void CheckLoaded<T>(Module<T> layer)
    {
        var variance = Expect<BatchNorm<T>>(layer).RunningVar.Data;
        for (var c = 0; c < variance.Length; c++)
        {
            if (variance[c] < T.Zero)
            {
                throw new BackpropException(string.Create(CultureInfo.InvariantCulture, $"the running variance of channel {c + 1} is {double.CreateTruncating(variance[c])}; a variance is at least 0"));
            }
        }
    }

    /// <summary>BatchNormalization (inference form: X, scale γ, B β, the running mean and variance; epsilon).</summary>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var bn = Expect<BatchNorm<T>>(layer);
        string Constant(Tensor<T> t) => graph.Initializer(t.Name!, t.Shape, (ReadOnlySpan<T>)t.Data);
        return graph.Node("BatchNormalization", [input, Constant(bn.Weight), Constant(bn.Bias), Constant(bn.RunningMean), Constant(bn.RunningVar)],
            name + ".out", OnnxAttr.Float("epsilon", (float)bn.Epsilon));
    }

    /// <inheritdoc/>
    public override string Label(LayerFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var (momentum, epsilon) = Settings(fields);
        return DisplayName + "("
            + (fields.Has("channels") ? fields.Int("channels").ToString(CultureInfo.InvariantCulture) : "")
            + (momentum == 0.1 ? "" : string.Create(CultureInfo.InvariantCulture, $", momentum {momentum}"))
            + (epsilon == 1e-5 ? "" : string.Create(CultureInfo.InvariantCulture, $", eps {epsilon}")) + ")";
    }

    private static (double Momentum, double Epsilon) Settings(LayerFields fields)
    {
        var momentum = fields.Double("momentum", 0.1);
        var epsilon = fields.Double("epsilon", 1e-5);
        TensorOps.CheckBatchNormSettings(momentum, epsilon);
        return (momentum, epsilon);
    }

    private (int Channels, double Momentum, double Epsilon) Check(LayerFields fields, Shape input)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (input.Rank != InputRank)
        {
            throw new BackpropException(InputRank == 1
                ? $"{Name} takes rows of features, not examples of shape {input}"
                : $"{Name} takes images [channels, height, width], not examples of shape {input}");
        }
        if (fields.Has("channels") && fields.Int("channels") != input[0])
        {
            throw new BackpropException($"it normalises {fields.Int("channels")} channels but the layer before it gives {input[0]}");
        }
        var (momentum, epsilon) = Settings(fields);
        return (input[0], momentum, epsilon);
    }
}

/// <summary>The kind of <see cref="BatchNorm1d{T}"/>: <c>batchnorm1d [momentum M] [eps E]</c> on rows of features.</summary>
public sealed class BatchNorm1dKind : BatchNormKind
{
    private BatchNorm1dKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static BatchNorm1dKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "batchnorm1d";

    /// <inheritdoc/>
    public override string DisplayName => "BatchNorm1d";

    /// <inheritdoc/>
    public override string Description => "normalises each feature over the batch, then scales and shifts it (γ, β trained; running statistics for evaluation)";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => ("batchnorm1d momentum 0.2", new Shape(4));

    /// <inheritdoc/>
    public override int? InputRank => 1;

    private protected override Module<T> Create<T>(int channels, double momentum, double epsilon) => new BatchNorm1d<T>(channels, momentum, epsilon);
}

/// <summary>The kind of <see cref="BatchNorm2d{T}"/>: <c>batchnorm2d [momentum M] [eps E]</c> on images.</summary>
public sealed class BatchNorm2dKind : BatchNormKind
{
    private BatchNorm2dKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static BatchNorm2dKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "batchnorm2d";

    /// <inheritdoc/>
    public override string DisplayName => "BatchNorm2d";

    /// <inheritdoc/>
    public override string Description => "normalises each channel over the batch and the image, then scales and shifts it (γ, β trained; running statistics for evaluation)";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => ("batchnorm2d", new Shape(3, 4, 4));

    /// <inheritdoc/>
    public override int? InputRank => 3;

    private protected override Module<T> Create<T>(int channels, double momentum, double epsilon) => new BatchNorm2d<T>(channels, momentum, epsilon);
}
