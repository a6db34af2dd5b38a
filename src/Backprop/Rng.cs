namespace Backprop;

/// <summary>
/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64) whose sequence is
/// fixed by this library, not by the .NET version: the same seed gives the same draws everywhere.
/// Every random choice in Backprop (initial weights, shuffling) takes one explicitly.
/// </summary>
public sealed class Rng
{
    private ulong s0, s1, s2, s3;
    private double? spareNormal;

    /// <summary>Creates a generator from a seed.</summary>
    public Rng(ulong seed)
    {
        var x = seed;
        s0 = SplitMix64(ref x);
        s1 = SplitMix64(ref x);
        s2 = SplitMix64(ref x);
        s3 = SplitMix64(ref x);
    }

    /// <summary>Creates a generator that continues from <paramref name="state"/> (see <see cref="State"/>).</summary>
    /// <exception cref="ArgumentException">The state is all zero, which xoshiro256** never reaches.</exception>
    public Rng(RngState state)
    {
        if ((state.S0 | state.S1 | state.S2 | state.S3) == 0)
        {
            throw new ArgumentException("A generator's state cannot be all zero.", nameof(state));
        }
        (s0, s1, s2, s3, spareNormal) = (state.S0, state.S1, state.S2, state.S3, state.SpareNormal);
    }

    /// <summary>
    /// Everything the generator will draw next depends on: saving it and creating a generator from it
    /// (or setting it back) later continues the sequence exactly (checkpoints use it to resume
    /// shuffling and Dropout's masks).
    /// </summary>
    /// <exception cref="ArgumentException">Set to an all-zero state, which xoshiro256** never reaches.</exception>
    public RngState State
    {
        get => new(s0, s1, s2, s3, spareNormal);
        set
        {
            if ((value.S0 | value.S1 | value.S2 | value.S3) == 0)
            {
                throw new ArgumentException("A generator's state cannot be all zero.", nameof(value));
            }
            (s0, s1, s2, s3, spareNormal) = (value.S0, value.S1, value.S2, value.S3, value.SpareNormal);
        }
    }

    private static ulong SplitMix64(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform double in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double NextUniform(double low, double high) => low + ((high - low) * NextDouble());

    /// <summary>A uniform integer in [0, <paramref name="count"/>), without modulo bias.</summary>
    public int NextInt(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var bound = (ulong)count;
        var limit = ulong.MaxValue - (ulong.MaxValue % bound);
        ulong r;
        do
        {
            r = NextUInt64();
        }
        while (r >= limit);
        return (int)(r % bound);
    }

    /// <summary>A draw from the standard normal distribution N(0, 1) (Box–Muller, pairs cached).</summary>
    public double NextNormal()
    {
        if (spareNormal is { } spare)
        {
            spareNormal = null;
            return spare;
        }
        double u1;
        do
        {
            u1 = NextDouble();
        }
        while (u1 == 0);
        var u2 = NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        spareNormal = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<TItem>(Span<TItem> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>The state of an <see cref="Rng"/>: xoshiro256**'s four words and the cached second normal draw, if any.</summary>
/// <param name="S0">First word.</param>
/// <param name="S1">Second word.</param>
/// <param name="S2">Third word.</param>
/// <param name="S3">Fourth word.</param>
/// <param name="SpareNormal">The second draw of the last Box–Muller pair, not yet handed out.</param>
public readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3, double? SpareNormal = null);
