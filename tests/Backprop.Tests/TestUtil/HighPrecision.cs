using System.Numerics;

namespace Backprop.Tests.TestUtil;

/// <summary>
/// Reference values computed exactly enough to judge double: fixed-point arithmetic on
/// <see cref="BigInteger"/> with 400 fraction bits, by Taylor series, for x = p/q.
/// </summary>
public static class HighPrecision
{
    private const int Bits = 400;
    private static readonly BigInteger One = BigInteger.One << Bits;

    /// <summary>eˣ for x = p/q ≥ 0 in fixed point: the series Σ xᵏ/k! until its terms vanish.</summary>
    private static BigInteger Exp(long p, long q)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(p);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(q);
        var sum = BigInteger.Zero;
        var term = One;
        for (var k = 1; !term.IsZero; k++)
        {
            sum += term;
            term = term * p / (q * k);
        }
        return sum;
    }

    /// <summary>sech²(p/q) = 4/(eˣ + e⁻ˣ)², rounded to double.</summary>
    public static double SechSquared(long p, long q)
    {
        var ex = Exp(Math.Abs(p), q);
        var emx = (One << Bits) / ex;
        var d = ex + emx;
        // 4·One³/d² has Bits fraction bits.
        var r = (4 * (One << (2 * Bits))) / (d * d);
        return Math.ScaleB((double)r, -Bits);
    }

    /// <summary>tanh(p/q) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ), rounded to double.</summary>
    public static double Tanh(long p, long q)
    {
        var ex = Exp(Math.Abs(p), q);
        var emx = (One << Bits) / ex;
        var r = ((ex - emx) << Bits) / (ex + emx);
        return Math.Sign(p) * Math.ScaleB((double)r, -Bits);
    }
}
