namespace Backprop.Training;

/// <summary>Why training stopped.</summary>
public enum StopReason
{
    /// <summary>Every trained number's step size fell below the threshold: the parameters have settled.</summary>
    StepSizeBelowThreshold,

    /// <summary>The maximum number of steps was reached.</summary>
    MaxSteps,

    /// <summary>The loss reached the target.</summary>
    TargetLoss,

    /// <summary>The loss became NaN or infinite; the step that would have used it was not taken.</summary>
    Diverged,

    /// <summary>The requested number of epochs (passes over the data) was completed.</summary>
    Epochs,

    /// <summary>A monitor stopped training (see the message).</summary>
    Stopped,

    /// <summary>
    /// Training was interrupted (Ctrl-C, SIGTERM) after a complete step; <see cref="Trainer{T}.CaptureState"/>
    /// gives the state to resume from.
    /// </summary>
    Interrupted,
}

/// <summary>What one training step did, passed to the per-step callback.</summary>
/// <param name="Step">1 for the first update.</param>
/// <param name="Epoch">The pass over the data this step belongs to, 1 for the first.</param>
/// <param name="Loss">The loss computed in this step's forward pass (before the update).</param>
/// <param name="MaxStepSize">The largest |change| of any trained number in this step.</param>
public readonly record struct StepInfo(int Step, int Epoch, double Loss, double MaxStepSize);

/// <summary>The outcome of training with a <see cref="Trainer{T}"/>.</summary>
/// <param name="Steps">Number of updates made.</param>
/// <param name="StopReason">Why training stopped.</param>
/// <param name="StopMessage">The reason in words, e.g. "every step size is below 0.001".</param>
/// <param name="InitialLoss">Loss on all the data at the starting values.</param>
/// <param name="FinalLoss">Loss on all the data at the final values.</param>
/// <param name="LossHistory">
/// The loss of each step's forward pass (the batch's loss for mini-batches), every one for runs of up
/// to <see cref="Training.LossHistory.MaxKept"/> steps and every k-th (k doubling) beyond, with the
/// latest always kept (<see cref="Training.LossHistory.StepOf"/> gives each one's step); when training
/// stops at the target loss, the last entry is the loss that met it, with no update after it.
/// </param>
public sealed record TrainingResult(
    int Steps,
    StopReason StopReason,
    string StopMessage,
    double InitialLoss,
    double FinalLoss,
    LossHistory LossHistory);
