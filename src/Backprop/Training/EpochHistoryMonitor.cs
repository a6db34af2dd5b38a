using System.Diagnostics;
using System.Numerics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Tensors.Ops;

namespace Backprop.Training;

/// <summary>One epoch of training, as <see cref="EpochHistoryMonitor{T}"/> recorded it.</summary>
/// <param name="Epoch">1 for the first pass over the data.</param>
/// <param name="TrainLoss">The mean loss of the epoch's batches, each computed before its update (weighted by rows).</param>
/// <param name="TrainAccuracy">For classification, the fraction of the epoch's rows classified correctly in their batch's forward pass; otherwise null.</param>
/// <param name="ValidationLoss">The loss on the validation data after the epoch, or null without validation data.</param>
/// <param name="ValidationAccuracy">The accuracy on the validation data after the epoch (classification only), or null.</param>
/// <param name="Seconds">Wall-clock time of the epoch's training steps (not counting the validation pass).</param>
public readonly record struct EpochRecord(int Epoch, double TrainLoss, double? TrainAccuracy, double? ValidationLoss, double? ValidationAccuracy, double Seconds)
{
    /// <summary>For regression with validation data, MSE, RMSE, MAE and R² of the validation rows after the epoch; otherwise null.</summary>
    public RegressionMetrics? ValidationMetrics { get; init; }

    /// <summary>The steps taken by the end of the epoch (over the whole run, a resumed one included).</summary>
    public long Step { get; init; }

    /// <summary>The learning rate of the epoch's last step (a schedule may change it between steps); NaN when unknown.</summary>
    public double LearningRate { get; init; } = double.NaN;

    /// <summary>Wall-clock seconds from the start of training to the end of the epoch, validation included.</summary>
    public double ElapsedSeconds { get; init; }
}

/// <summary>
/// Records, for every epoch, the training loss and accuracy and (when given validation data) the
/// validation loss and accuracy, and the epoch's time: the history behind learning curves.
/// </summary>
/// <remarks>
/// The training figures are those of each batch's forward pass during the epoch, as the weights
/// change — they cost nothing extra (Keras reports the same). The validation data is scored after the
/// epoch's last step, in chunks, with the weights as they are then.
/// The history is kept in bounded memory, as the loss history is: every epoch up to
/// <see cref="MaxKept"/>, then every k-th epoch (k doubling) and the latest; a full-batch run of
/// millions of steps has an epoch per step. <see cref="EpochCompleted"/> sees every epoch.
/// </remarks>
public sealed class EpochHistoryMonitor<T> : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dataset? validation;
    private readonly List<EpochRecord> history = [];
    private bool hasTail;
    private int interval = 1;
    private int firstEpoch;
    private readonly Stopwatch clock = new();
    private readonly Stopwatch total = new();
    private Evaluator<T>? evaluator;
    private double lossSum;
    private long rows;
    private long correct;
    private int batchRows;
    private long step;
    private double learningRate = double.NaN;

    /// <summary>Creates the monitor; <paramref name="validation"/> is scored after every epoch when given.</summary>
    public EpochHistoryMonitor(Dataset? validation = null) => this.validation = validation;

    /// <summary>The most epochs kept on the grid of every k-th epoch (the latest is kept besides).</summary>
    public const int MaxKept = 4096;

    /// <summary>The epochs kept so far, in order: every epoch of a short run; of a long one every k-th (k a power of 2) and the latest.</summary>
    public IReadOnlyList<EpochRecord> History => history;

    /// <summary>Called with each epoch's record as soon as it is complete (for progress lines).</summary>
    public event Action<EpochRecord>? EpochCompleted;

    /// <inheritdoc/>
    public override void OnStart(Trainer<T> trainer, double initialLoss)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        history.Clear();
        hasTail = false;
        interval = 1;
        evaluator = trainer.Evaluator;
        Reset();
        clock.Restart();
        total.Restart();
    }

    /// <inheritdoc/>
    public override void OnGradients(Trainer<T> trainer, int step, double loss, Graph<T> graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        // NOTE: cross-entropy's loss is one softmax-cross-entropy op whose inputs are the batch's
        // logits and class indices; reading them here gives the training accuracy for free.
        if (graph.Root.Creator is SoftmaxCrossEntropyOp<T> op)
        {
            var logits = op.Inputs[0];
            batchRows = logits.Shape.Rows;
            correct += ConfusionMatrix.Count<T>(logits.Data, op.Inputs[1].Data, batchRows);
        }
        else
        {
            batchRows = graph.Root.Creator?.Inputs[0].Shape is { Rank: > 0 } shape ? shape[0] : 1;
        }
    }

    /// <inheritdoc/>
    public override void OnStep(Trainer<T> trainer, in StepInfo info)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        lossSum += info.Loss * batchRows;
        rows += batchRows;
        step = info.Step;
        // NOTE: read before a per-step schedule (a monitor after this one) sets the next step's rate.
        learningRate = trainer.Optimizer.LearningRate;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(Trainer<T> trainer, int epoch)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var seconds = clock.Elapsed.TotalSeconds;
        var classification = trainer.Loss.IsClassification;
        Evaluation? scored = validation is null ? null : evaluator!.Evaluate(validation);
        var record = new EpochRecord(
            epoch,
            rows == 0 ? double.NaN : lossSum / rows,
            classification && rows > 0 ? (double)correct / rows : null,
            scored?.Loss,
            scored?.Accuracy,
            seconds)
        {
            ValidationMetrics = scored?.Regression,
            Step = step,
            LearningRate = learningRate,
            ElapsedSeconds = total.Elapsed.TotalSeconds,
        };
        Keep(record);
        EpochCompleted?.Invoke(record);
        Reset();
        clock.Restart();
    }

    private void Keep(EpochRecord record)
    {
        if (hasTail)
        {
            history.RemoveAt(history.Count - 1);
        }
        if (history.Count == 0)
        {
            firstEpoch = record.Epoch;
        }
        hasTail = (record.Epoch - firstEpoch) % interval != 0;
        history.Add(record);
        if (!hasTail && history.Count > MaxKept)
        {
            interval *= 2;
            var start = firstEpoch;
            var step = interval;
            history.RemoveAll(r => (r.Epoch - start) % step != 0);
        }
    }

    private void Reset()
    {
        lossSum = 0;
        rows = 0;
        correct = 0;
    }
}
