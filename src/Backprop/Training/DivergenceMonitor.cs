using System.Globalization;
using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// Notices a run whose loss grows by orders of magnitude: a step's loss above <c>factor</c> times the
/// starting loss. Such a run is on its way to infinity (a learning rate too large for the numbers
/// trained) even when no number ever overflows. It watches only; it does not stop training (NaN and
/// infinite losses stop training by themselves, <see cref="StopReason.Diverged"/>).
/// </summary>
/// <param name="factor">How many times the starting loss a step's loss may reach; default a million.</param>
public sealed class DivergenceMonitor<T>(double factor = DivergenceMonitor<T>.DefaultFactor) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The default <c>factor</c>: six orders of magnitude.</summary>
    public const double DefaultFactor = 1e6;

    private double limit = double.PositiveInfinity;
    private double initial;

    /// <summary>The first step whose loss passed the limit, or null.</summary>
    public int? Step { get; private set; }

    /// <summary>What happened, in words ("the loss grew from 1.9 to 2.0E+06 (more than 1E+06 times) by step 33"), or null.</summary>
    public string? Message { get; private set; }

    /// <inheritdoc/>
    public override void OnStart(Trainer<T> trainer, double initialLoss)
    {
        (initial, Step, Message) = (initialLoss, null, null);
        // A run that starts at a loss of 0 has nothing to grow from.
        limit = initialLoss > 0 && double.IsFinite(initialLoss) ? initialLoss * factor : double.PositiveInfinity;
    }

    /// <inheritdoc/>
    public override void OnStep(Trainer<T> trainer, in StepInfo info)
    {
        if (Step is null && info.Loss > limit)
        {
            Step = info.Step;
            Message = string.Create(CultureInfo.InvariantCulture, $"the loss grew from {initial:G6} to {info.Loss:G6} (more than {factor:G3} times) by step {info.Step} (try a smaller learning rate)");
        }
    }
}
