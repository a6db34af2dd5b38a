using System.Numerics;
using Backprop.Optim;

namespace Backprop.Training;

/// <summary>Whether a <see cref="LearningRateScheduler{T}"/>'s time t counts epochs or steps.</summary>
public enum ScheduleUnit
{
    /// <summary>t is the number of epochs completed: the rate changes at the end of each epoch.</summary>
    Epoch,

    /// <summary>t is the number of steps taken: the rate changes after every step (warm-ups usually count steps).</summary>
    Step,
}

/// <summary>
/// Applies a <see cref="LearningRateSchedule"/> to the trainer's optimizer: the rate at the start
/// is the schedule's at t = 0 (or at the resumed run's t), and after each epoch or step (<see cref="Unit"/>)
/// the rate for the next one, as PyTorch's <c>scheduler.step()</c> after each epoch does.
/// </summary>
/// <remarks>
/// The schedule is a closed form of t, so a resumed run (<see cref="Trainer{T}.Fit(Tensors.Tensor{T}, Tensors.Tensor{T}, TrainingOptions?, IReadOnlyList{TrainingMonitor{T}}, TrainingState{T}?)"/>)
/// continues it where it was. Nothing is allocated per step.
/// </remarks>
public sealed class LearningRateScheduler<T> : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private double? baseRate;

    /// <summary>Schedules from the optimizer's learning rate when training starts, or from <paramref name="baseRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="baseRate"/> is not positive and finite.</exception>
    public LearningRateScheduler(LearningRateSchedule schedule, ScheduleUnit unit = ScheduleUnit.Epoch, double? baseRate = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (baseRate is { } b && !(b > 0 && double.IsFinite(b)))
        {
            throw new ArgumentOutOfRangeException(nameof(baseRate), b, "The base learning rate must be a positive, finite number.");
        }
        Schedule = schedule;
        Unit = unit;
        this.baseRate = baseRate;
    }

    /// <summary>The schedule applied.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>Whether t counts epochs or steps.</summary>
    public ScheduleUnit Unit { get; }

    /// <summary>The base rate the schedule starts from (the optimizer's rate at the first start, unless given).</summary>
    public double BaseRate => baseRate ?? double.NaN;

    /// <inheritdoc/>
    public override void OnStart(Trainer<T> trainer, double initialLoss)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        baseRate ??= trainer.Optimizer.LearningRate;
        Apply(trainer, Unit == ScheduleUnit.Step ? trainer.Optimizer.StepCount : trainer.Epoch - 1);
    }

    /// <inheritdoc/>
    public override void OnStep(Trainer<T> trainer, in StepInfo info)
    {
        if (Unit == ScheduleUnit.Step)
        {
            Apply(trainer, info.Step);
        }
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(Trainer<T> trainer, int epoch)
    {
        if (Unit == ScheduleUnit.Epoch)
        {
            Apply(trainer, epoch);
        }
    }

    private void Apply(Trainer<T> trainer, int t) => trainer.Optimizer.LearningRate = Schedule.Rate(baseRate!.Value, Math.Max(t, 0));
}
