using System.Globalization;
using System.Numerics;
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
    public override string Describe() => $"BatchNorm2d({Channels}{Settings()})";
}
