using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Diagnostics;

/// <summary>One number's gradient by back-propagation beside its central finite difference.</summary>
/// <param name="Name">The tensor's name and the element index, e.g. <c>layer0.weight[3]</c>.</param>
/// <param name="Backprop">d(loss)/d(number) from <see cref="Tensor{T}.Backward"/>.</param>
/// <param name="Numerical">(loss(x + h) − loss(x − h)) / 2h.</param>
public readonly record struct GradientComparison(string Name, double Backprop, double Numerical)
{
    /// <summary>
    /// |backprop − numerical| / max(|backprop|, |numerical|, 1): relative for large gradients, absolute
    /// for gradients below 1, where finite differences cannot resolve relative differences.
    /// </summary>
    public double RelativeError => Math.Abs(Backprop - Numerical) / Math.Max(Math.Max(Math.Abs(Backprop), Math.Abs(Numerical)), 1.0);
}

/// <summary>
/// Checks back-propagation against central finite differences, in double precision: for each number
/// x of each tensor, (f(x + h) − f(x − h)) / 2h against the gradient <see cref="Tensor{T}.Backward"/> gives.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Compares gradients of the scalar <paramref name="loss"/> (rebuilt from scratch on each call)
    /// with respect to every number of <paramref name="tensors"/>.
    /// </summary>
    /// <param name="loss">Builds the loss from the current values of the tensors.</param>
    /// <param name="tensors">Leaves that require gradients.</param>
    /// <param name="step">The finite-difference step h (default 1e-6).</param>
    public static IReadOnlyList<GradientComparison> Compare(Func<Tensor<double>> loss, IReadOnlyList<Tensor<double>> tensors, double step = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var t in tensors)
        {
            t.ZeroGrad();
        }
        loss().Backward();
        var result = new List<GradientComparison>();
        for (var ti = 0; ti < tensors.Count; ti++)
        {
            var t = tensors[ti];
            var analytic = t.Grad?.ToDoubleArray() ?? new double[t.Length];
            for (var i = 0; i < t.Length; i++)
            {
                var saved = t.Data[i];
                double plus, minus;
                using (GradMode.NoGrad())
                {
                    t.Data[i] = saved + step;
                    plus = loss().Item();
                    t.Data[i] = saved - step;
                    minus = loss().Item();
                }
                t.Data[i] = saved;
                result.Add(new GradientComparison($"{t.Name ?? $"tensor{ti}"}[{i}]", analytic[i], (plus - minus) / (2 * step)));
            }
        }
        return result;
    }
}
