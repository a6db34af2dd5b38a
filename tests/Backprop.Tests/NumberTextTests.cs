namespace Backprop.Tests;

/// <summary>The one way numbers are written for people (reports, pictures, pages): six significant digits, invariant culture.</summary>
public sealed class NumberTextTests
{
    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(3.2350512345, "3.23505")]
    [InlineData(0.000618461234, "0.000618461")]
    [InlineData(1.2e195, "1.2E+195")]
    [InlineData(-2.5e-7, "-2.5E-07")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void Short_is_six_significant_digits_in_the_invariant_culture(double value, string expected)
        => Assert.Equal(expected, NumberText.Short(value));

    [Fact]
    public void Typeset_writes_a_true_minus_sign()
    {
        Assert.Equal("−0.5", NumberText.Typeset(-0.5));
        Assert.Equal("1.2E−05", NumberText.Typeset(1.2e-5));
        Assert.Equal("3", NumberText.Typeset(3));
    }
}
