using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Losses;

/// <summary>
/// A loss: one number that measures how far predictions are from observed values, built from
/// differentiable operations so that back-propagation can start from it.
/// </summary>
public abstract class Loss
{
    /// <summary>The loss's short name as the command line spells it (<c>ssr</c>, <c>mse</c>, <c>cross-entropy</c>, <c>mae</c>, <c>huber</c>, <c>bce</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The loss's name for people, e.g. <c>SSR</c>.</summary>
    public abstract string DisplayName { get; }

    /// <summary>Whether targets are class indices (classification) rather than values (regression).</summary>
    public virtual bool IsClassification => false;

    /// <summary>
    /// True when the loss is a sum over rows (SSR), false when it is a mean over rows (the default):
    /// how the losses of chunks of rows combine into the loss of all of them.
    /// </summary>
    public virtual bool SumsOverRows => false;

    /// <summary>The loss of <paramref name="predicted"/> against <paramref name="observed"/>: a scalar tensor.</summary>
    public abstract Tensor<T> Compute<T>(Tensor<T> predicted, Tensor<T> observed) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A loss by name: <c>ssr</c>, <c>mse</c>, <c>cross-entropy</c>, <c>mae</c>, <c>huber</c> (δ = 1), <c>bce</c> (binary cross-entropy on logits).</summary>
    /// <exception cref="BackpropException">The name is unknown.</exception>
    public static Loss Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "SSR" or "SUM-SQUARED-RESIDUALS" => new SumSquaredResiduals(),
            "MSE" or "MEAN-SQUARED-ERROR" => new MeanSquaredError(),
            "CROSS-ENTROPY" or "CROSSENTROPY" or "CE" => new CrossEntropy(),
            "MAE" or "MEAN-ABSOLUTE-ERROR" or "L1" => new MeanAbsoluteError(),
            "HUBER" => new HuberLoss(),
            "BCE" or "BINARY-CROSS-ENTROPY" => new BinaryCrossEntropy(),
            _ => throw new BackpropException($"Unknown loss '{name}'; choose one of ssr, mse, cross-entropy, mae, huber, bce."),
        };
    }

    /// <summary>Checks that predictions and observations have the same shape.</summary>
    protected static void RequireSameShape<T>(Tensor<T> predicted, Tensor<T> observed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(observed);
        if (predicted.Shape != observed.Shape)
        {
            throw new BackpropException($"Predictions have shape {predicted.Shape} but observed values have shape {observed.Shape}.");
        }
    }
}

/// <summary>The lesson's loss: SSR = Σᵢ (Observedᵢ − Predictedᵢ)².</summary>
/// <remarks>dSSR/dPredictedᵢ = −2 (Observedᵢ − Predictedᵢ).</remarks>
public sealed class SumSquaredResiduals : Loss
{
    /// <inheritdoc/>
    public override string Name => "ssr";

    /// <inheritdoc/>
    public override string DisplayName => "SSR";

    /// <inheritdoc/>
    public override bool SumsOverRows => true;

    /// <inheritdoc/>
    public override Tensor<T> Compute<T>(Tensor<T> predicted, Tensor<T> observed)
    {
        RequireSameShape(predicted, observed);
        return TensorOps.SumSquaredResiduals(predicted, observed);
    }
}

/// <summary>Mean squared error: MSE = (1/n) Σᵢ (Observedᵢ − Predictedᵢ)² over all n values.</summary>
public sealed class MeanSquaredError : Loss
{
    /// <inheritdoc/>
    public override string Name => "mse";

    /// <inheritdoc/>
    public override string DisplayName => "MSE";

    /// <inheritdoc/>
    public override Tensor<T> Compute<T>(Tensor<T> predicted, Tensor<T> observed)
    {
        RequireSameShape(predicted, observed);
        return TensorOps.MeanSquaredError(predicted, observed);
    }
}

/// <summary>
/// Softmax cross-entropy, averaged over rows: the predictions are logits [rows, classes], the
/// observed values class indices [rows] (or [rows, 1]) or class probabilities [rows, classes].
/// </summary>
/// <remarks>L = −(1/n) Σᵢ log softmax(zᵢ)[classᵢ], computed with log-sum-exp.</remarks>
public sealed class CrossEntropy : Loss
{
    /// <inheritdoc/>
    public override string Name => "cross-entropy";

    /// <inheritdoc/>
    public override string DisplayName => "cross-entropy";

    /// <inheritdoc/>
    public override bool IsClassification => true;

    /// <inheritdoc/>
    public override Tensor<T> Compute<T>(Tensor<T> predicted, Tensor<T> observed)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(observed);
        if (predicted.Shape.Rank != 2 || predicted.Shape[1] < 2)
        {
            throw new BackpropException($"Cross-entropy needs a network with one output per class (at least 2); its output has shape {predicted.Shape}.");
        }
        try
        {
            return predicted.SoftmaxCrossEntropy(observed);
        }
        catch (ArgumentException e)
        {
            throw new BackpropException(e.Message, e);
        }
    }
}
