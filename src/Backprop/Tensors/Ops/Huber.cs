using System.Numerics;
using Backprop.Autograd;

namespace Backprop.Tensors.Ops;

/// <summary>
/// The Huber loss as one op (PyTorch's HuberLoss, mean over all n values): with r = p − o,
/// ℓ(r) = r²/2 where |r| &lt; δ, else δ·(|r| − δ/2); loss = (1/n) Σ ℓ(rᵢ).
/// </summary>
/// <remarks>
/// Quadratic near 0 and linear beyond δ, so outliers pull with a bounded force. ∂ℓ/∂p = r where
/// |r| &lt; δ, else δ·sign(r) (the two agree at |r| = δ); ∂ℓ/∂o = −∂ℓ/∂p.
/// </remarks>
internal sealed class HuberOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> predicted;
    private readonly Tensor<T> observed;
    private readonly T delta;
    private readonly T scale;

    public HuberOp(Tensor<T> predicted, Tensor<T> observed, T delta)
        : base("huber", Shape.Scalar, predicted, observed)
    {
        if (predicted.Shape != observed.Shape)
        {
            throw new ArgumentException($"Predictions have shape {predicted.Shape} but observed values have shape {observed.Shape}.");
        }
        this.predicted = predicted;
        this.observed = observed;
        this.delta = delta;
        scale = T.One / T.CreateChecked(Math.Max(predicted.Length, 1));
    }

    public override void Forward()
    {
        ReadOnlySpan<T> p = predicted.Data, o = observed.Data;
        var half = T.CreateChecked(0.5);
        var sum = T.Zero;
        for (var i = 0; i < p.Length; i++)
        {
            var a = T.Abs(p[i] - o[i]);
            sum += a < delta ? half * a * a : delta * (a - (half * delta));
        }
        Output.Data[0] = sum * scale;
    }

    // d/dp ℓ(p − o) = r where |r| < δ, else δ·sign(r); d/do = −d/dp
    public override void Backward()
    {
        var g = scale * Output.GradData[0];
        ReadOnlySpan<T> p = predicted.Data, o = observed.Data;
        var dp = predicted.RequiresGrad ? predicted.GradData : null;
        var dobs = observed.RequiresGrad ? observed.GradData : null;
        for (var i = 0; i < p.Length; i++)
        {
            var r = p[i] - o[i];
            var d = g * (T.Abs(r) < delta ? r : delta * Sign(r));
            if (dp is not null)
            {
                dp[i] += d;
            }
            if (dobs is not null)
            {
                dobs[i] -= d;
            }
        }
    }

    // sign(r) as a T: NaN stays NaN (T.Sign would throw), 0 stays 0.
    private static T Sign(T r) => r > T.Zero ? T.One : r < T.Zero ? -T.One : r;
}
