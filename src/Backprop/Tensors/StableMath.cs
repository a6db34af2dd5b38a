using System.Numerics;

namespace Backprop.Tensors;

/// <summary>Numerically stable scalar formulas shared by the tensor operations.</summary>
public static class StableMath
{
    /// <summary>log(1 + u), accurate also when |u| is tiny (where 1 + u rounds to 1).</summary>
    /// <remarks>
    /// Goldberg's trick: with w = 1 + u rounded, log(w)·u/(w − 1) cancels the rounding error of w.
    /// </remarks>
    public static T Log1P<T>(T u) where T : IFloatingPointIeee754<T>
    {
        var w = T.One + u;
        if (w == T.One)
        {
            return u;
        }
        return T.IsPositiveInfinity(w) ? w : T.Log(w) * u / (w - T.One);
    }

    /// <summary>SoftPlus(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|) so it never overflows.</summary>
    public static T SoftPlus<T>(T x) where T : IFloatingPointIeee754<T>
        => T.Max(x, T.Zero) + Log1P(T.Exp(-T.Abs(x)));

    /// <summary>σ(x) = 1/(1 + e^−x), computed from e^−|x| so neither side overflows.</summary>
    /// <remarks>For x ≥ 0: 1/(1 + e^−x); for x &lt; 0: eˣ/(1 + eˣ). This is also d SoftPlus/dx.</remarks>
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T>
    {
        var e = T.Exp(-T.Abs(x));
        return x >= T.Zero ? T.One / (T.One + e) : e / (T.One + e);
    }
}
