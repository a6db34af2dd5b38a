using System.Numerics;
using System.Runtime.InteropServices;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM while training: the first one asks training to stop after the current
/// step (a checkpoint is then saved); a second one ends the process as usual.
/// </summary>
/// <remarks>
/// Tests stop a run at a step they choose through the two hooks of <see cref="AfterStep"/>: in the
/// test process, the step the caller names interrupts the run as a first signal would; in a child
/// process, <see cref="HoldVariable"/> holds the run after a step until the test's real signal comes.
/// </remarks>
internal sealed class Interruption : IDisposable
{
    /// <summary>
    /// For tests only: <c>BACKPROP_TEST_HOLD_AT_STEP=N</c> holds training after step N until a signal
    /// comes (at most <see cref="HoldLimit"/>). A test that signals the command once its first checkpoint
    /// exists (a step before N) then interrupts a run that has not ended, however fast the machine and
    /// however late the test looks; unset, it changes nothing.
    /// </summary>
    public const string HoldVariable = "BACKPROP_TEST_HOLD_AT_STEP";

    /// <summary>The longest a held run waits for its signal before it goes on.</summary>
    public static readonly TimeSpan HoldLimit = TimeSpan.FromMinutes(10);

    private readonly List<PosixSignalRegistration> registrations = [];
    private readonly ManualResetEventSlim signalled = new();
    private readonly int? holdAt = int.TryParse(Environment.GetEnvironmentVariable(HoldVariable), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var step) ? step : null;
    private int? interruptAt;
    private int signals;

    /// <summary>Whether a stop has been asked for.</summary>
    public bool Requested => Volatile.Read(ref signals) > 0;

    /// <summary>
    /// Starts listening for SIGINT and SIGTERM (where the platform has them); with
    /// <paramref name="interruptAt"/> (tests), training is interrupted after that step as by a first Ctrl-C.
    /// </summary>
    public static Interruption Listen(int? interruptAt = null)
    {
        var interruption = new Interruption { interruptAt = interruptAt };
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                interruption.registrations.Add(PosixSignalRegistration.Create(signal, interruption.Handle));
            }
            catch (PlatformNotSupportedException)
            {
                // Without the signal, Ctrl-C ends the process as it always did.
            }
        }
        return interruption;
    }

    /// <summary>Asks training to stop after the current step, as a signal does.</summary>
    public void Request()
    {
        Interlocked.Increment(ref signals);
        signalled.Set();
    }

    /// <summary>
    /// After training step <paramref name="step"/>: asks for the stop when it is the step
    /// <see cref="Listen"/> was given; holds it until a signal when <see cref="HoldVariable"/> names that step.
    /// </summary>
    public void AfterStep(int step)
    {
        if (step == interruptAt)
        {
            Request();
        }
        if (step == holdAt)
        {
            signalled.Wait(HoldLimit);
        }
    }

    private void Handle(PosixSignalContext context)
    {
        // NOTE: only the first signal is held back; a second one ends the process at once.
        context.Cancel = Interlocked.Increment(ref signals) == 1;
        signalled.Set();
    }

    public void Dispose()
    {
        foreach (var r in registrations)
        {
            r.Dispose();
        }
        registrations.Clear();
        signalled.Dispose();
    }
}

/// <summary>A training run was interrupted and its checkpoint saved; the message says how to resume.</summary>
internal sealed class TrainingInterruptedException(string message) : Exception(message);

/// <summary>
/// Saves checkpoints of a run: every <see cref="CheckpointPlan.Every"/> steps, and when the run is
/// interrupted (it then stops the trainer after the current step).
/// </summary>
internal sealed class CheckpointMonitor<T>(CheckpointPlan plan) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override void OnStepEnd(Trainer<T> trainer, int step)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        plan.Interruption.AfterStep(step);
        if (plan.Interruption.Requested)
        {
            trainer.RequestStop(StopReason.Interrupted, "interrupted");
        }
        else if (plan.Every is { } every && step % every == 0)
        {
            plan.Save(trainer);
        }
    }

    public override void OnEnd(Trainer<T> trainer, TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(result);
        if (result.StopReason == StopReason.Interrupted)
        {
            plan.Save(trainer);
        }
    }
}
