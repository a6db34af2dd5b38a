using System.Globalization;

namespace Backprop.Optim;

/// <summary>
/// A learning-rate schedule: the rate at time t (epochs or steps completed, 0 at the start) from
/// the base rate, in closed form, as PyTorch's schedulers give it. A
/// <see cref="Training.LearningRateScheduler{T}"/> applies one to an optimizer per epoch or per step;
/// a monitor of your own can call <see cref="Rate"/> and set <see cref="Optimizer{T}.LearningRate"/> itself.
/// </summary>
/// <remarks>
/// Built in: <see cref="Step"/> (StepLR), <see cref="Exponential"/> (ExponentialLR), <see cref="Cosine"/>
/// (CosineAnnealingLR), <see cref="LinearWarmup"/> (LinearLR). Composed with <see cref="Times"/>
/// (both at once, as ChainedScheduler) or <see cref="Then"/> (one after the other, as SequentialLR).
/// Subclass it for a schedule of your own.
/// </remarks>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at time <paramref name="t"/> (0 at the start) for base rate <paramref name="baseRate"/>.</summary>
    public abstract double Rate(double baseRate, int t);

    /// <summary>The schedule in words, e.g. "cosine over 100 to 0".</summary>
    public abstract override string ToString();

    /// <summary>
    /// StepLR: the rate times <paramref name="gamma"/> every <paramref name="stepSize"/>:
    /// base·γ^⌊t/stepSize⌋.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">stepSize is not positive, or γ not in (0, 1].</exception>
    public static LearningRateSchedule Step(int stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        CheckFactor(gamma, nameof(gamma));
        return new StepSchedule(stepSize, gamma);
    }

    /// <summary>ExponentialLR: base·γᵗ.</summary>
    /// <exception cref="ArgumentOutOfRangeException">γ is not in (0, 1].</exception>
    public static LearningRateSchedule Exponential(double gamma)
    {
        CheckFactor(gamma, nameof(gamma));
        return new ExponentialSchedule(gamma);
    }

    /// <summary>
    /// CosineAnnealingLR: minRate + (base − minRate)·(1 + cos(π·t/period))/2, from the base rate at
    /// t = 0 down to <paramref name="minRate"/> at t = period. NOTE: as in PyTorch, past the period the
    /// cosine goes on (back up towards the base rate); give the period the length of the whole run.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">period is not positive, or minRate negative or not finite.</exception>
    public static LearningRateSchedule Cosine(int period, double minRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(period);
        if (!(minRate >= 0 && double.IsFinite(minRate)))
        {
            throw new ArgumentOutOfRangeException(nameof(minRate), minRate, "The smallest rate must be a finite number ≥ 0.");
        }
        return new CosineSchedule(period, minRate);
    }

    /// <summary>
    /// LinearLR as a warm-up: the rate rises linearly from base·startFactor at t = 0 to the base
    /// rate at t = <paramref name="length"/>, then stays there: base·(s + (1 − s)·min(t, length)/length).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">length is not positive, or startFactor not in (0, 1].</exception>
    public static LearningRateSchedule LinearWarmup(int length, double startFactor = 1.0 / 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        CheckFactor(startFactor, nameof(startFactor));
        return new WarmupSchedule(length, startFactor);
    }

    /// <summary>
    /// Both schedules at once (PyTorch's ChainedScheduler): <paramref name="other"/> applied to the
    /// rate this schedule gives, e.g. a warm-up times a cosine.
    /// </summary>
    public LearningRateSchedule Times(LearningRateSchedule other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new ChainedSchedule(this, other);
    }

    /// <summary>
    /// This schedule until time <paramref name="at"/>, then <paramref name="next"/> from its own time 0
    /// (PyTorch's SequentialLR), e.g. <c>LinearWarmup(5, 0.1).Then(5, Cosine(95))</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">at is not positive.</exception>
    public LearningRateSchedule Then(int at, LearningRateSchedule next)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(at);
        ArgumentNullException.ThrowIfNull(next);
        return new SequentialSchedule(this, at, next);
    }

    private static void CheckFactor(double value, string name)
    {
        if (!(value > 0 && value <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "The factor must be in (0, 1].");
        }
    }

    private static string Text(double value) => NumberText.Short(value);

    private sealed class StepSchedule(int stepSize, double gamma) : LearningRateSchedule
    {
        public override double Rate(double baseRate, int t) => baseRate * Math.Pow(gamma, t / stepSize);

        public override string ToString() => $"step: ×{Text(gamma)} every {stepSize}";
    }

    private sealed class ExponentialSchedule(double gamma) : LearningRateSchedule
    {
        public override double Rate(double baseRate, int t) => baseRate * Math.Pow(gamma, t);

        public override string ToString() => $"exponential: ×{Text(gamma)} each time";
    }

    private sealed class CosineSchedule(int period, double minRate) : LearningRateSchedule
    {
        public override double Rate(double baseRate, int t)
            => minRate + ((baseRate - minRate) * (1 + Math.Cos(Math.PI * t / period)) / 2);

        public override string ToString() => $"cosine over {period} to {Text(minRate)}";
    }

    private sealed class WarmupSchedule(int length, double startFactor) : LearningRateSchedule
    {
        public override double Rate(double baseRate, int t)
            => baseRate * (startFactor + ((1 - startFactor) * Math.Min(t, length) / length));

        public override string ToString() => $"linear warm-up over {length} from ×{Text(startFactor)}";
    }

    private sealed class ChainedSchedule(LearningRateSchedule first, LearningRateSchedule second) : LearningRateSchedule
    {
        public override double Rate(double baseRate, int t) => second.Rate(first.Rate(baseRate, t), t);

        public override string ToString() => $"{first} × {second}";
    }

    private sealed class SequentialSchedule(LearningRateSchedule first, int at, LearningRateSchedule next) : LearningRateSchedule
    {
        public override double Rate(double baseRate, int t) => t < at ? first.Rate(baseRate, t) : next.Rate(baseRate, t - at);

        public override string ToString() => $"{first}, then from {at} {next}";
    }
}
