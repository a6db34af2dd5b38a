namespace Backprop.Playground;

/// <summary>
/// A token bucket for one tab's training steps: it fills at <c>rate</c> steps a second up to one
/// second's worth; taking more than it holds waits until it has refilled.
/// </summary>
/// <param name="rate">Steps per second.</param>
/// <param name="clock">The time now (a test passes its own).</param>
public sealed class StepBudget(double rate, Func<TimeSpan> clock)
{
    private double tokens = rate;
    private TimeSpan last = clock();

    /// <summary>Steps per second.</summary>
    public double Rate { get; } = rate > 0 ? rate : throw new ArgumentOutOfRangeException(nameof(rate));

    /// <summary>
    /// Takes <paramref name="steps"/> from the bucket; returns how long to wait before running them (zero
    /// when the bucket held enough). The bucket may go below zero: the wait is what pays it back.
    /// </summary>
    public TimeSpan Take(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var now = clock();
        tokens = Math.Min(Rate, tokens + ((now - last).TotalSeconds * Rate));
        last = now;
        tokens -= steps;
        return tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-tokens / Rate);
    }
}
