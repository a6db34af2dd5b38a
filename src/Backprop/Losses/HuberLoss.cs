using System.Globalization;

namespace Backprop.Losses;

/// <summary>
/// The Huber loss (PyTorch's HuberLoss, mean over all n values): with r = Predicted − Observed,
/// ℓ(r) = r²/2 where |r| &lt; δ, else δ·(|r| − δ/2). Quadratic for small residuals, linear for large ones.
/// </summary>
/// <remarks>dℓ/dPredicted = r where |r| &lt; δ, else δ·sign(r): an outlier pulls with a force of at most δ.</remarks>
public sealed class HuberLoss : Loss
{
    /// <summary>Creates the loss with threshold <paramref name="delta"/> (PyTorch's default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">δ is not positive and finite.</exception>
    public HuberLoss(double delta = 1)
    {
        if (!(delta > 0 && double.IsFinite(delta)))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Huber's δ must be a positive, finite number.");
        }
        Delta = delta;
    }

    /// <summary>The threshold δ between the quadratic and the linear part.</summary>
    public double Delta { get; }

    /// <inheritdoc/>
    public override string Name => "huber";

    /// <inheritdoc/>
    public override string DisplayName => Delta == 1 ? "Huber" : string.Create(CultureInfo.InvariantCulture, $"Huber (δ = {Delta:G6})");

    /// <inheritdoc/>
    public override Tensors.Tensor<T> Compute<T>(Tensors.Tensor<T> predicted, Tensors.Tensor<T> observed)
    {
        RequireSameShape(predicted, observed);
        return Tensors.TensorOps.Huber(predicted, observed, T.CreateChecked(Delta));
    }
}
