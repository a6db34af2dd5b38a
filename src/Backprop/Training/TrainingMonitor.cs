using System.Numerics;
using Backprop.Autograd;

namespace Backprop.Training;

/// <summary>
/// Watches training from inside the loop: progress bars, gradient health, snapshots for plots,
/// validation each epoch. Override only what you need; every method does nothing by default.
/// A monitor can stop training with <see cref="Trainer{T}.RequestStop"/>.
/// </summary>
/// <remarks>Calls happen on the training thread; keep them cheap, and allocation-free per step where possible.</remarks>
public abstract class TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Before the first step, at the starting values.</summary>
    public virtual void OnStart(Trainer<T> trainer, double initialLoss)
    {
    }

    /// <summary>
    /// After the backward pass of step <paramref name="step"/> and before its update: the
    /// parameters hold this step's gradients. Requesting a stop here skips the update.
    /// </summary>
    public virtual void OnGradients(Trainer<T> trainer, int step, double loss, Graph<T> graph)
    {
    }

    /// <summary>After the update of a step.</summary>
    public virtual void OnStep(Trainer<T> trainer, in StepInfo info)
    {
    }

    /// <summary>After the last step of epoch <paramref name="epoch"/> (1 for the first); every step is an epoch in full-batch training.</summary>
    public virtual void OnEpochEnd(Trainer<T> trainer, int epoch)
    {
    }

    /// <summary>
    /// At the very end of step <paramref name="step"/>, after its epoch's end and the stopping rules:
    /// <see cref="Trainer{T}.CaptureState"/> here gives a state that training resumes from exactly
    /// (periodic checkpoints are taken here).
    /// </summary>
    public virtual void OnStepEnd(Trainer<T> trainer, int step)
    {
    }

    /// <summary>After training, with its result.</summary>
    public virtual void OnEnd(Trainer<T> trainer, TrainingResult result)
    {
    }

    /// <summary>
    /// The name under which <see cref="SaveState"/>'s state is kept in a <see cref="TrainingState{T}"/> (and
    /// so in checkpoints); null, the default, for a monitor with nothing a resumed run needs.
    /// </summary>
    /// <remarks>A second monitor of the same name in one run is kept as <c>NAME#2</c>, and so on, in list order.</remarks>
    public virtual string? StateName => null;

    /// <summary>
    /// What a resumed run needs of this monitor (called by <see cref="Trainer{T}.CaptureState"/> when
    /// <see cref="StateName"/> is not null); null for nothing.
    /// </summary>
    public virtual MonitorState<T>? SaveState(Trainer<T> trainer) => null;

    /// <summary>
    /// Puts back what <see cref="SaveState"/> saved, when training resumes: called after
    /// <see cref="OnStart"/>, before the first step. A monitor whose name the resumed state lacks starts afresh.
    /// </summary>
    /// <exception cref="BackpropException">The state does not fit this monitor or network.</exception>
    public virtual void RestoreState(Trainer<T> trainer, MonitorState<T> state)
    {
    }
}
