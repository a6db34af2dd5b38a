using Backprop.Losses;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Runs;

/// <summary>The numbers a run trains in.</summary>
public enum Precision
{
    /// <summary>64-bit floating point: the lesson's numbers to many digits, gradient checks.</summary>
    Double,

    /// <summary>32-bit floating point: twice the numbers per vector, half the memory.</summary>
    Float,
}

/// <summary>
/// Everything a training run is asked to do, for every task (regression or classification, float or
/// double): the data, the network recipe, the loss, the optimizer and its learning rate, the stopping
/// rules and batching. <see cref="TrainingRun"/> carries it out.
/// </summary>
/// <remarks>
/// Build one in C# or from the command's options (<c>backprop train</c> does exactly that). What
/// watches the run (progress, logs, pictures, checkpoints) is attached to the <see cref="TrainingRun"/>,
/// not described here.
/// </remarks>
public sealed record RunSpec
{
    /// <summary>The training rows, with validation and test rows when there are any.</summary>
    public required RunData Data { get; init; }

    /// <summary>How to build the network.</summary>
    public required NetworkRecipe Network { get; init; }

    /// <summary>The loss minimised: <see cref="SumSquaredResiduals"/> by default; <see cref="CrossEntropy"/> classifies.</summary>
    public Loss Loss { get; init; } = new SumSquaredResiduals();

    /// <summary>The update rule. Default gradient descent.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.GradientDescent;

    /// <summary>The learning rate. Default the lesson's 0.1.</summary>
    public double LearningRate { get; init; } = Nn.Lesson.LearningRate;

    /// <summary>Stopping rules and batching.</summary>
    public TrainingOptions Options { get; init; } = new();

    /// <summary>How the learning rate changes during the run (<see cref="LearningRateScheduler{T}"/>); null (the default) to keep it constant.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Whether <see cref="Schedule"/>'s time counts epochs (the default) or steps.</summary>
    public ScheduleUnit ScheduleUnit { get; init; } = ScheduleUnit.Epoch;

    /// <summary>
    /// Weight decay λ ≥ 0 (<see cref="Optimizer{T}.WeightDecay"/>): L2 added to the gradient for gradient
    /// descent and momentum, decoupled for Adam (AdamW); weights only, not biases. Default 0: none.
    /// </summary>
    public double WeightDecay { get; init; }

    /// <summary>Clip the gradients to this global norm before each update (<see cref="Optimizer{T}.MaxGradientNorm"/>); null (the default) for no clipping.</summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>
    /// Early stopping (<see cref="EarlyStopping{T}"/>): stop when the loss on the validation rows (or,
    /// without them, on the test rows) has not improved for this many epochs, and put back the weights
    /// of the best epoch. Null (the default) for none; the data needs validation or test rows.
    /// </summary>
    public int? Patience { get; init; }

    /// <summary>The rows early stopping watches: the validation rows, else the test rows; null without either.</summary>
    public Data.Dataset? EarlyStoppingRows => Data.Validation ?? Data.Test;

    /// <summary>The name of the loss early stopping watches: "validation loss" or "test loss".</summary>
    public string EarlyStoppingMetric => Data.Validation is not null ? "validation loss" : "test loss";

    /// <summary>The numbers trained in. Default double.</summary>
    public Precision Precision { get; init; } = Precision.Double;

    /// <summary>
    /// The run counts as diverged (<see cref="RunResult.Diverged"/>) when a step's loss exceeds this many
    /// times the starting loss (<see cref="DivergenceMonitor{T}"/>); null to count only NaN and infinity. Default a million.
    /// </summary>
    public double? DivergenceFactor { get; init; } = DivergenceMonitor<double>.DefaultFactor;

    /// <summary>
    /// The processes that train this run together, data-parallel (as PyTorch's DistributedDataParallel):
    /// each computes its share of every batch and the gradients are summed, so that the result is the
    /// single-process run's within rounding (docs/distributed.md). Null (the default): this process alone.
    /// </summary>
    /// <remarks>
    /// Every process runs the same spec. Rank 0's starting values (and, on resume, rank 0's
    /// <see cref="TrainingRun.Resume"/> state) are copied to every process; a stop asked for on any process
    /// stops every one after the same step; only rank 0 should print or write. Over MPI:
    /// <c>Backprop.Distributed.ProcessGroup.StartMpi()</c> under <c>mpirun</c>.
    /// </remarks>
    public IProcessGroup? Distributed { get; init; }

    /// <summary>Whether the run classifies (its loss is cross-entropy).</summary>
    public bool IsClassification => Loss.IsClassification;

    /// <summary>Rows per step: the batch size, or every training row for full batch.</summary>
    public int BatchRows => Math.Min(Options.BatchSize ?? Data.Train.Count, Data.Train.Count);

    /// <summary>Steps in one pass over the training rows.</summary>
    public int StepsPerEpoch => Data.Train.Count == 0 ? 1 : (Data.Train.Count + BatchRows - 1) / BatchRows;

    /// <summary>Whether more than one row set makes a step (mini-batches shuffled each epoch).</summary>
    public bool IsMiniBatch => BatchRows < Data.Train.Count;

    /// <summary>The most steps the stopping rules allow: <see cref="TrainingOptions.MaxSteps"/>, or fewer when <see cref="TrainingOptions.Epochs"/> ends the run sooner.</summary>
    public long PlannedSteps => Options.Epochs is { } e ? Math.Min(Options.MaxSteps, (long)e * StepsPerEpoch) : Options.MaxSteps;

    // Binary cross-entropy's targets are classes 0 and 1 or probabilities: any other value gives a loss below 0 that training drives to −∞.
    private static void CheckProbabilities(Data.Dataset? set)
    {
        if (set is null || set.IsClassification)
        {
            return;
        }
        var targets = set.Targets;
        for (var i = 0; i < targets.Length; i++)
        {
            if (!(targets[i] >= 0 && targets[i] <= 1))
            {
                throw new BackpropException($"--loss bce needs targets from 0 to 1 (a class, 0 or 1, or a probability), but the data ({set.Name}) has {NumberText.Short(targets[i])} in row {(i / set.TargetCount) + 1}.");
            }
        }
    }

    /// <summary>Checks that the parts fit together, naming the first problem.</summary>
    /// <exception cref="BackpropException">The loss does not suit the data (binary cross-entropy: a target outside 0…1), the network does not fit it, or a setting is out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Data);
        ArgumentNullException.ThrowIfNull(Network);
        ArgumentNullException.ThrowIfNull(Loss);
        ArgumentNullException.ThrowIfNull(Options);
        var data = Data.Train;
        if (data.IsClassification && !Loss.IsClassification)
        {
            throw new BackpropException($"The data ({data.Name}) has class labels; train it with --loss cross-entropy (its default), not {Loss.Name}.");
        }
        if (!data.IsClassification && Loss.IsClassification)
        {
            throw new BackpropException($"--loss cross-entropy needs class labels, but the data ({data.Name}) has values; for a CSV file the target column holds the labels.");
        }
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
        {
            throw new BackpropException($"--lr must be a positive number; got {LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }
        Options.Validate();
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay)))
        {
            throw new BackpropException($"--weight-decay must be a number ≥ 0; got {WeightDecay.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }
        if (MaxGradientNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
        {
            throw new BackpropException($"--clip-norm must be a positive number; got {clip.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }
        if (Patience is { } patience)
        {
            if (patience < 0)
            {
                throw new BackpropException($"--patience must be a whole number ≥ 0 of epochs; got {patience}.");
            }
            if (EarlyStoppingRows is null)
            {
                throw new BackpropException("--patience stops on the loss of held-out rows: give --validation FRACTION (or --test FILE) as well.");
            }
        }
        foreach (var (held, name) in ((Data.Dataset?, string)[])[(Data.Validation, "validation"), (Data.Test, "test")])
        {
            if (held is not null && (held.InputCount != data.InputCount || held.TargetCount != data.TargetCount || held.IsClassification != data.IsClassification))
            {
                throw new BackpropException($"The {name} data ({held.Name}) has {held.InputCount} inputs and {held.TargetCount} target{(held.TargetCount == 1 ? "" : "s")}{(held.IsClassification ? " (class labels)" : "")}, but the training data ({data.Name}) has {data.InputCount} and {data.TargetCount}{(data.IsClassification ? " (class labels)" : "")}.");
            }
        }
        if (Loss is BinaryCrossEntropy)
        {
            foreach (var set in (Data.Dataset?[])[data, Data.Validation, Data.Test])
            {
                CheckProbabilities(set);
            }
        }
        if (DivergenceFactor is { } f && !(f > 1 && double.IsFinite(f)))
        {
            throw new BackpropException($"The divergence factor must be a finite number above 1; got {f.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }
        Network.Validate();
        var layers = Network.Layers;
        if (Network.Net is not null)
        {
            if (layers[0] != data.InputCount)
            {
                throw new BackpropException($"--net takes examples of shape {Network.InputShape} ({layers[0]} numbers) but the data ({data.Name}) has {data.InputCount} input column{(data.InputCount == 1 ? "" : "s")}.");
            }
            if (!Loss.IsClassification && layers[^1] != data.TargetCount)
            {
                throw new BackpropException($"--net ends with {layers[^1]} output{(layers[^1] == 1 ? "" : "s")} but the data ({data.Name}) has {data.TargetCount} target column; end it with dense {data.TargetCount}.");
            }
            if (Loss.IsClassification && data.ClassNames is { } names && layers[^1] != names.Count)
            {
                throw new BackpropException($"--net ends with {layers[^1]} output{(layers[^1] == 1 ? "" : "s")} but the data ({data.Name}) has {names.Count} classes: end it with dense {names.Count}, one output per class.");
            }
            return;
        }
        if (layers[0] != data.InputCount)
        {
            throw new BackpropException($"--layers starts with {layers[0]} inputs but the data ({data.Name}) has {data.InputCount} input column{(data.InputCount == 1 ? "" : "s")}.");
        }
        if (!Loss.IsClassification && layers[^1] != data.TargetCount)
        {
            throw new BackpropException($"--layers ends with {layers[^1]} outputs but the data ({data.Name}) has {data.TargetCount} target column.");
        }
        if (Loss.IsClassification && data.ClassNames is { } classes && layers[^1] != classes.Count)
        {
            throw new BackpropException($"--layers ends with {layers[^1]} outputs but the data ({data.Name}) has {classes.Count} classes: one output per class.");
        }
    }
}
