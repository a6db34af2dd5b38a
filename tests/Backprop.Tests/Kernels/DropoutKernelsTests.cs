using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>Dropout masks: values, rate, determinism and the probability's range.</summary>
public sealed class DropoutKernelsTests
{
    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 301)];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void A_mask_holds_zeros_and_the_inverse_keep_rate_from_one_draw_per_element(int length)
    {
        var mask = new float[length];
        DropoutKernels.DrawMask<float>(new Rng(5), 0.3, mask);

        var draws = new Rng(5);
        for (var i = 0; i < length; i++)
        {
            Assert.Equal(draws.NextDouble() < 0.3 ? 0f : (float)(1 / 0.7), mask[i]);
        }
    }

    [Fact]
    public void About_p_of_the_elements_are_dropped_and_the_mean_is_one()
    {
        var mask = new double[100_000];
        DropoutKernels.DrawMask<double>(new Rng(1), 0.25, mask);

        var dropped = mask.Count(v => v == 0) / (double)mask.Length;
        Assert.InRange(dropped, 0.245, 0.255); // ±4.5 standard deviations
        Assert.InRange(mask.Average(), 0.99, 1.01);
    }

    [Fact]
    public void Probability_zero_keeps_everything_at_one()
    {
        var mask = new double[50];
        DropoutKernels.DrawMask<double>(new Rng(1), 0, mask);
        Assert.All(mask, v => Assert.Equal(1.0, v));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void A_probability_outside_0_to_1_is_refused(double p)
        => Assert.Throws<ArgumentOutOfRangeException>(() => DropoutKernels.DrawMask<double>(new Rng(1), p, new double[3]));
}
