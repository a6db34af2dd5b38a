using Backprop.Optim;

namespace Backprop.Tests.Optim;

/// <summary>The schedules' closed forms against PyTorch's (values its schedulers print for base rate 0.1).</summary>
public sealed class LearningRateScheduleTests
{
    private static double[] Rates(LearningRateSchedule schedule, int count, double baseRate = 0.1)
        => [.. Enumerable.Range(0, count).Select(t => schedule.Rate(baseRate, t))];

    private static void AssertRates(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-15, $"t = {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    [Fact]
    public void Step_multiplies_by_gamma_every_step_size()
        // StepLR(step_size=2, gamma=0.5): 0.1, 0.1, 0.05, 0.05, 0.025
        => AssertRates([0.1, 0.1, 0.05, 0.05, 0.025], Rates(LearningRateSchedule.Step(2, 0.5), 5));

    [Fact]
    public void Exponential_multiplies_by_gamma_each_time()
        => AssertRates([0.1, 0.09, 0.081, 0.0729], Rates(LearningRateSchedule.Exponential(0.9), 4));

    [Fact]
    public void Cosine_goes_from_the_base_rate_to_the_minimum_over_its_period_and_on_as_PyTorch_does()
    {
        // CosineAnnealingLR(T_max=4, eta_min=0.01): 0.1, 0.08682, 0.055, 0.02318, 0.01, then back up.
        var rates = Rates(LearningRateSchedule.Cosine(4, 0.01), 6);
        AssertRates([0.1, 0.01 + (0.09 * (1 + Math.Sqrt(0.5)) / 2), 0.055, 0.01 + (0.09 * (1 - Math.Sqrt(0.5)) / 2), 0.01, rates[3]], rates);
        Assert.Equal(0, LearningRateSchedule.Cosine(10).Rate(0.1, 10), 1e-18);
    }

    [Fact]
    public void Linear_warmup_rises_from_the_start_factor_to_the_base_rate_and_stays()
        // LinearLR(start_factor=0.25, total_iters=3): 0.025, 0.05, 0.075, 0.1, 0.1
        => AssertRates([0.025, 0.05, 0.075, 0.1, 0.1], Rates(LearningRateSchedule.LinearWarmup(3, 0.25), 5));

    [Fact]
    public void Times_applies_both_and_then_hands_over_at_its_milestone()
    {
        var chained = LearningRateSchedule.LinearWarmup(2, 0.5).Times(LearningRateSchedule.Exponential(0.5));
        AssertRates([0.05, 0.0375, 0.025, 0.0125], Rates(chained, 4));
        var sequential = LearningRateSchedule.LinearWarmup(2, 0.5).Then(2, LearningRateSchedule.Step(1, 0.5));
        AssertRates([0.05, 0.075, 0.1, 0.05, 0.025], Rates(sequential, 5));
        Assert.Equal("linear warm-up over 2 from ×0.5, then from 2 step: ×0.5 every 1", sequential.ToString());
    }

    [Fact]
    public void Bad_arguments_are_refused_with_their_names()
    {
        Assert.Equal("stepSize", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Step(0)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Exponential(1.5)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Exponential(0)).ParamName);
        Assert.Equal("period", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(0)).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(5, -1));
        Assert.StartsWith("The smallest rate must be a finite number ≥ 0.", e.Message, StringComparison.Ordinal);
        Assert.Equal("startFactor", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.LinearWarmup(5, double.NaN)).ParamName);
        Assert.Equal("at", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Exponential(0.5).Then(0, LearningRateSchedule.Exponential(0.5))).ParamName);
    }
}
