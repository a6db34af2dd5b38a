using Backprop.Playground;

namespace Backprop.Tests.Playground;

public sealed class StepBudgetTests
{
    [Fact]
    public void A_second_of_steps_runs_at_once_and_more_waits_for_the_bucket_to_refill()
    {
        var now = TimeSpan.Zero;
        var budget = new StepBudget(1000, () => now);

        Assert.Equal(TimeSpan.Zero, budget.Take(600));
        Assert.Equal(TimeSpan.Zero, budget.Take(400));
        Assert.Equal(TimeSpan.FromSeconds(0.5), budget.Take(500)); // 500 steps beyond the second's worth: half a second
        now += TimeSpan.FromSeconds(0.5);
        Assert.Equal(TimeSpan.FromSeconds(0.1), budget.Take(100)); // the wait paid the debt; 100 more wait 0.1 s
        now += TimeSpan.FromSeconds(10);
        Assert.Equal(TimeSpan.Zero, budget.Take(1000)); // idle time fills it to one second's worth, no more
        Assert.Equal(TimeSpan.FromSeconds(0.001), budget.Take(1));
    }
}
