using System.Globalization;
using System.Numerics;
using Backprop.Tensors.Ops;

namespace Backprop.Tensors;

// Dropout and batch normalisation: the operations whose forward pass depends on training or evaluation.
public static partial class TensorOps
{
    /// <summary>
    /// Inverted dropout, as in training: each element is zeroed with probability
    /// <paramref name="probability"/> and the others are multiplied by 1/(1 − p), so the expected
    /// output is the input. The mask is drawn from <paramref name="generator"/> on every forward pass,
    /// a replay of a recorded graph included (into the same array: nothing is allocated).
    /// </summary>
    /// <remarks>In evaluation dropout is the identity: the <c>Dropout</c> module then returns its input unchanged.</remarks>
    /// <exception cref="BackpropException">p is not in [0, 1).</exception>
    public static Tensor<T> Dropout<T>(this Tensor<T> x, double probability, Rng generator) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(generator);
        CheckDropoutProbability(probability);
        return new DropoutOp<T>(Checked(x), probability, generator).Run();
    }

    /// <summary>Throws the one-line message for a dropout probability outside [0, 1).</summary>
    internal static void CheckDropoutProbability(double probability)
    {
        if (!(probability is >= 0 and < 1))
        {
            throw new BackpropException(string.Create(CultureInfo.InvariantCulture, $"The dropout probability must be at least 0 and below 1; got {probability}."));
        }
    }

    /// <summary>
    /// Batch normalisation over dimension 1 (features of [N, F], channels of [N, C, H, W]):
    /// y = γ · (x − μ) / √(σ² + ε) + β per channel. In training μ and σ² are the batch's mean and biased
    /// variance, and <paramref name="runningMean"/> and <paramref name="runningVar"/> are updated on every
    /// forward pass (r ← (1 − momentum) · r + momentum · batch value, the variance unbiased); in
    /// evaluation they are μ and σ².
    /// </summary>
    /// <param name="x">[N, C] or [N, C, …].</param>
    /// <param name="gamma">The scale γ, [C].</param>
    /// <param name="beta">The shift β, [C].</param>
    /// <param name="runningMean">The running mean, [C] (not trained: no gradient flows to it).</param>
    /// <param name="runningVar">The running variance, [C].</param>
    /// <param name="training">Batch statistics (true) or running statistics (false); fixed for the recorded operation.</param>
    /// <param name="momentum">The running statistics' update weight, in [0, 1] (PyTorch's 0.1).</param>
    /// <param name="epsilon">Added to the variance, &gt; 0 (PyTorch's 1e-5).</param>
    /// <exception cref="BackpropException">The shapes do not fit, a setting is out of range, or a training batch has one value per channel.</exception>
    public static Tensor<T> BatchNorm<T>(this Tensor<T> x, Tensor<T> gamma, Tensor<T> beta, Tensor<T> runningMean, Tensor<T> runningVar, bool training, double momentum = 0.1, double epsilon = 1e-5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Checked(x);
        CheckBatchNormSettings(momentum, epsilon);
        if (x.Shape.Rank < 2)
        {
            throw new BackpropException($"Batch normalisation needs rows and channels ([N, C] or [N, C, H, W]); it was given shape {x.Shape}.");
        }
        var channels = x.Shape[1];
        foreach (var (name, t) in (ReadOnlySpan<(string, Tensor<T>)>)[("gamma", gamma), ("beta", beta), ("running mean", runningMean), ("running variance", runningVar)])
        {
            if (Checked(t).Shape.Rank != 1 || t.Length != channels)
            {
                throw new BackpropException($"Batch normalisation of {channels} channels needs a {name} of shape [{channels}]; it was given {t.Shape}.");
            }
        }
        var perChannel = x.Length / channels;
        if (training && perChannel < 2)
        {
            throw new BackpropException($"Batch normalisation in training needs more than one value per channel; shape {x.Shape} has one (use batches of at least 2 rows).");
        }
        return new BatchNormOp<T>(x, gamma, beta, runningMean, runningVar, training, momentum, epsilon).Run();
    }

    /// <summary>Throws the one-line message for a momentum outside [0, 1] or an epsilon that is not positive.</summary>
    internal static void CheckBatchNormSettings(double momentum, double epsilon)
    {
        if (!(momentum is >= 0 and <= 1))
        {
            throw new BackpropException(string.Create(CultureInfo.InvariantCulture, $"The batch-norm momentum must be between 0 and 1; got {momentum}."));
        }
        if (!(epsilon > 0) || double.IsPositiveInfinity(epsilon))
        {
            throw new BackpropException(string.Create(CultureInfo.InvariantCulture, $"The batch-norm epsilon must be a positive number; got {epsilon}."));
        }
    }
}
