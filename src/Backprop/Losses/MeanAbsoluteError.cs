namespace Backprop.Losses;

/// <summary>Mean absolute error: MAE = (1/n) Σᵢ |Observedᵢ − Predictedᵢ| over all n values (PyTorch's L1Loss).</summary>
/// <remarks>dMAE/dPredictedᵢ = sign(Predictedᵢ − Observedᵢ)/n, 0 where they are equal. Less pulled by outliers than MSE.</remarks>
public sealed class MeanAbsoluteError : Loss
{
    /// <inheritdoc/>
    public override string Name => "mae";

    /// <inheritdoc/>
    public override string DisplayName => "MAE";

    /// <inheritdoc/>
    public override Tensors.Tensor<T> Compute<T>(Tensors.Tensor<T> predicted, Tensors.Tensor<T> observed)
    {
        RequireSameShape(predicted, observed);
        return Tensors.TensorOps.MeanAbsoluteError(predicted, observed);
    }
}
