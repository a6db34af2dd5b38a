using System.Numerics;
using Backprop.Autograd;

namespace Backprop.Tensors.Ops;

/// <summary>
/// Mean absolute error as one op: MAE = (1/n) Σᵢ |oᵢ − pᵢ| for predictions p and observations o of the same shape.
/// </summary>
/// <remarks>
/// ∂MAE/∂pᵢ = sign(pᵢ − oᵢ)/n, ∂MAE/∂oᵢ = sign(oᵢ − pᵢ)/n, with sign(0) = 0 at the kink (as PyTorch's L1Loss).
/// </remarks>
internal sealed class AbsoluteErrorOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> predicted;
    private readonly Tensor<T> observed;
    private readonly T scale;

    public AbsoluteErrorOp(Tensor<T> predicted, Tensor<T> observed)
        : base("mae", Shape.Scalar, predicted, observed)
    {
        if (predicted.Shape != observed.Shape)
        {
            throw new ArgumentException($"Predictions have shape {predicted.Shape} but observed values have shape {observed.Shape}.");
        }
        this.predicted = predicted;
        this.observed = observed;
        scale = T.One / T.CreateChecked(Math.Max(predicted.Length, 1));
    }

    public override void Forward()
    {
        ReadOnlySpan<T> p = predicted.Data, o = observed.Data;
        var sum = T.Zero;
        for (var i = 0; i < p.Length; i++)
        {
            sum += T.Abs(o[i] - p[i]);
        }
        Output.Data[0] = sum * scale;
    }

    // d/dp |o − p|/n = sign(p − o)/n; d/do = sign(o − p)/n
    public override void Backward()
    {
        var g = scale * Output.GradData[0];
        ReadOnlySpan<T> p = predicted.Data, o = observed.Data;
        if (predicted.RequiresGrad)
        {
            var dp = predicted.GradData;
            for (var i = 0; i < p.Length; i++)
            {
                dp[i] += g * Sign(p[i] - o[i]);
            }
        }
        if (observed.RequiresGrad)
        {
            var dobs = observed.GradData;
            for (var i = 0; i < p.Length; i++)
            {
                dobs[i] += g * Sign(o[i] - p[i]);
            }
        }
    }

    // sign(r) as a T: NaN stays NaN (T.Sign would throw), 0 stays 0.
    private static T Sign(T r) => r > T.Zero ? T.One : r < T.Zero ? -T.One : r;
}
