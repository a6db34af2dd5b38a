using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>Gradient clipping by global norm, as PyTorch's <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every parameter's gradient in place so that the global norm ‖g‖ = √(Σ g²), over every
    /// trained number of <paramref name="parameters"/>, is at most <paramref name="maxNorm"/>: when ‖g‖
    /// exceeds it, each gradient is multiplied by maxNorm/(‖g‖ + 10⁻⁶). Returns ‖g‖ before clipping.
    /// </summary>
    /// <remarks>
    /// Deterministic (the parameters' sums of squares are added in order, in double) and allocation-free.
    /// Numbers held fixed do not count towards the norm. NOTE: unlike PyTorch, a NaN or infinite norm
    /// leaves the gradients as they are (PyTorch would multiply them by 0 or NaN), so that the
    /// optimizer's check still finds the non-finite gradient and names it.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive and finite.</exception>
    public static double ClipGlobalNorm<T>(IReadOnlyList<Parameter<T>> parameters, double maxNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0 && double.IsFinite(maxNorm)))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The largest gradient norm must be a positive, finite number.");
        }
        var sum = 0.0;
        for (var i = 0; i < parameters.Count; i++)
        {
            sum += SumOfSquares(parameters[i]);
        }
        var norm = Math.Sqrt(sum);
        var coefficient = maxNorm / (norm + 1e-6);
        if (double.IsFinite(norm) && coefficient < 1)
        {
            var scale = T.CreateChecked(coefficient);
            for (var i = 0; i < parameters.Count; i++)
            {
                if (parameters[i].Grad is { } grad)
                {
                    TensorPrimitives.Multiply(grad.Data, scale, grad.Data);
                }
            }
        }
        return norm;
    }

    /// <summary>Σ g² over the trained numbers of <paramref name="p"/>, in double.</summary>
    private static double SumOfSquares<T>(Parameter<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p.Grad is not { } grad)
        {
            return 0;
        }
        ReadOnlySpan<T> g = grad.Data;
        if (p.IsFullyTrainable)
        {
            var fast = double.CreateChecked(TensorPrimitives.SumOfSquares(g));
            if (double.IsFinite(fast))
            {
                return fast;
            }
            // NOTE: float's sum of squares overflows from ‖g‖ ≈ 1.8e19 on, where clipping matters most;
            // the slow loop in double below does not (a NaN or ∞ gradient still gives NaN or ∞).
        }
        var sum = 0.0;
        var trainable = p.Trainable;
        for (var i = 0; i < g.Length; i++)
        {
            if (trainable[i])
            {
                var x = double.CreateChecked(g[i]);
                sum += x * x;
            }
        }
        return sum;
    }
}
