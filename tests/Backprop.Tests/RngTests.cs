namespace Backprop.Tests;

public sealed class RngTests
{
    [Fact]
    public void The_sequence_is_xoshiro256_starstar_seeded_by_SplitMix64()
    {
        // Computed with an independent implementation of the published algorithms.
        var zero = new Rng(0);
        Assert.Equal([0x99ec5f36cb75f2b4UL, 0xbf6e1f784956452aUL, 0x1a5f849d4933e6e0UL, 0x6aa594f1262d2d2cUL],
            Enumerable.Range(0, 4).Select(_ => zero.NextUInt64()));
        var answer = new Rng(42);
        Assert.Equal([0x15780b2e0c2ec716UL, 0x6104d9866d113a7eUL, 0xae17533239e499a1UL, 0xecb8ad4703b360a1UL],
            Enumerable.Range(0, 4).Select(_ => answer.NextUInt64()));
    }

    [Fact]
    public void The_same_seed_gives_the_same_sequence_and_another_seed_another()
    {
        Rng a = new(123), b = new(123), c = new(124);

        var first = Enumerable.Range(0, 1000).Select(_ => a.NextUInt64()).ToArray();
        var again = Enumerable.Range(0, 1000).Select(_ => b.NextUInt64()).ToArray();
        var other = Enumerable.Range(0, 1000).Select(_ => c.NextUInt64()).ToArray();

        Assert.Equal(first, again);
        Assert.Empty(first.Intersect(other));
    }

    [Fact]
    public void NextDouble_is_uniform_in_0_to_1()
    {
        var rng = new Rng(1);
        var counts = new int[10];
        const int n = 100_000;
        var sum = 0.0;

        for (var i = 0; i < n; i++)
        {
            var u = rng.NextDouble();
            Assert.InRange(u, 0.0, 1.0);
            Assert.NotEqual(1.0, u);
            counts[(int)(u * 10)]++;
            sum += u;
        }

        Assert.Equal(0.5, sum / n, 0.005);
        // Each tenth holds 10 000 ± 95 (one standard deviation).
        Assert.All(counts, count => Assert.InRange(count, 9_500, 10_500));
    }

    [Fact]
    public void NextUniform_stays_within_its_bounds()
    {
        var rng = new Rng(2);
        var values = Enumerable.Range(0, 10_000).Select(_ => rng.NextUniform(-3, 5)).ToArray();

        Assert.All(values, v => Assert.True(v >= -3 && v < 5));
        Assert.True(values.Min() < -2.9 && values.Max() > 4.9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(10)]
    public void NextInt_draws_every_value_below_the_bound_equally_often(int count)
    {
        var rng = new Rng((ulong)count);
        var counts = new int[count];
        var n = 20_000 * count;

        for (var i = 0; i < n; i++)
        {
            counts[rng.NextInt(count)]++;
        }

        // 20 000 expected per value, standard deviation ≤ 141.
        Assert.All(counts, c => Assert.InRange(c, 19_200, 20_800));
    }

    [Fact]
    public void NextInt_handles_the_largest_bound()
    {
        var rng = new Rng(3);

        var values = Enumerable.Range(0, 1000).Select(_ => rng.NextInt(int.MaxValue)).ToArray();

        Assert.All(values, v => Assert.InRange(v, 0, int.MaxValue - 1));
        Assert.Contains(values, v => v > int.MaxValue / 2);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void NextInt_needs_a_positive_bound(int count)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new Rng(1).NextInt(count));

    [Fact]
    public void Shuffle_is_a_permutation()
    {
        var rng = new Rng(4);
        var items = Enumerable.Range(0, 100).ToArray();

        rng.Shuffle<int>(items);

        Assert.Equal(Enumerable.Range(0, 100), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), items);
    }

    [Fact]
    public void Shuffle_gives_every_order_equally_often()
    {
        var rng = new Rng(5);
        var counts = new Dictionary<string, int>();

        for (var i = 0; i < 60_000; i++)
        {
            char[] items = ['a', 'b', 'c'];
            rng.Shuffle<char>(items);
            var key = new string(items);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        // 6 orders, 10 000 each expected (standard deviation 91).
        Assert.Equal(6, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void Shuffle_of_nothing_or_one_item_does_nothing()
    {
        var rng = new Rng(6);
        int[] one = [7];

        rng.Shuffle<int>([]);
        rng.Shuffle<int>(one);

        Assert.Equal([7], one);
    }

    [Fact]
    public void NextNormal_has_the_moments_of_the_standard_normal()
    {
        var rng = new Rng(7);
        const int n = 200_000;
        var x = new double[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = rng.NextNormal();
        }

        var mean = x.Average();
        var variance = x.Sum(v => (v - mean) * (v - mean)) / n;
        var skewness = x.Sum(v => Math.Pow(v - mean, 3)) / n / Math.Pow(variance, 1.5);
        var kurtosis = x.Sum(v => Math.Pow(v - mean, 4)) / n / (variance * variance);
        var withinOne = x.Count(v => Math.Abs(v) < 1) / (double)n;

        // Standard errors: mean 0.0022, variance 0.0032, skewness 0.0055, kurtosis 0.011.
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(variance, 0.985, 1.015);
        Assert.InRange(skewness, -0.03, 0.03);
        Assert.InRange(kurtosis, 2.95, 3.05);
        Assert.Equal(0.6827, withinOne, 0.005);
        Assert.All(x, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void A_generator_made_from_a_saved_state_continues_the_same_sequence()
    {
        var rng = new Rng(42);
        _ = rng.NextNormal(); // leaves the second draw of a pair cached
        var state = rng.State;
        Assert.NotNull(state.SpareNormal);
        var copy = new Rng(state);

        Assert.Equal(rng.NextNormal(), copy.NextNormal());
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(rng.NextUInt64(), copy.NextUInt64());
        }
        int[] a = [.. Enumerable.Range(0, 50)], b = [.. a];
        rng.Shuffle<int>(a);
        copy.Shuffle<int>(b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void An_all_zero_state_is_refused()
        => Assert.Throws<ArgumentException>(() => new Rng(new RngState(0, 0, 0, 0)));
}
