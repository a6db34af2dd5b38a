namespace Backprop.Losses;

/// <summary>
/// Binary cross-entropy on logits (PyTorch's BCEWithLogitsLoss, mean over all n values): each output
/// z is a logit, σ(z) the probability that its target is 1; targets are 0 or 1 (or a probability in
/// between), one per output, so several outputs are several independent yes/no labels.
/// </summary>
/// <remarks>
/// ℓ = −[y·log σ(z) + (1 − y)·log(1 − σ(z))], computed as max(z, 0) − z·y + log1p(e^−|z|), which
/// never overflows; dℓ/dz = σ(z) − y. The targets are the data's target columns as values, so the
/// task is a regression task as far as the data is concerned (<see cref="Loss.IsClassification"/> is false).
/// </remarks>
public sealed class BinaryCrossEntropy : Loss
{
    /// <inheritdoc/>
    public override string Name => "bce";

    /// <inheritdoc/>
    public override string DisplayName => "binary cross-entropy";

    /// <inheritdoc/>
    public override Tensors.Tensor<T> Compute<T>(Tensors.Tensor<T> predicted, Tensors.Tensor<T> observed)
    {
        RequireSameShape(predicted, observed);
        return Tensors.TensorOps.BinaryCrossEntropyWithLogits(predicted, observed);
    }
}
