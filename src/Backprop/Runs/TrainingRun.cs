using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Runs;

/// <summary>What a run is about to train, announced by <see cref="TrainingRun.Started"/> before the first step.</summary>
/// <param name="Network">The network in words.</param>
/// <param name="ParameterCount">Numbers in the network.</param>
/// <param name="Precision">The numbers trained in.</param>
/// <param name="Summary">Each layer with its output shape and parameter count, and the totals (<see cref="ModelSummary"/>).</param>
public readonly record struct RunStart(string Network, int ParameterCount, Precision Precision, ModelSummary Summary);

/// <summary>
/// Carries out a <see cref="RunSpec"/> for every task: builds the network, trains it (mini-batches,
/// epochs, validation after every epoch), then scores the training, validation and test rows.
/// Watchers attach through <see cref="Monitors"/> and the events; the run itself prints nothing.
/// </summary>
/// <remarks>
/// <see cref="CreateTrainer{T}"/> and <see cref="TrainingTensors{T}"/> are the seams for other ways of
/// training the same run. Data-parallel training over several processes is chosen in the spec
/// (<see cref="RunSpec.Distributed"/>).
/// </remarks>
public class TrainingRun
{
    /// <summary>Creates a run of <paramref name="spec"/>; nothing is built until <see cref="Run"/>.</summary>
    /// <exception cref="BackpropException">The spec's parts do not fit together.</exception>
    public TrainingRun(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // The starting values left open are the task's usual ones (He for a ReLU classifier, …).
        Spec = spec.Network is { Init: null, Stage: null }
            ? spec with { Network = spec.Network with { Init = spec.Network.DefaultInitFor(spec.Loss) } }
            : spec;
        Spec.Validate();
    }

    /// <summary>What is run.</summary>
    public RunSpec Spec { get; }

    /// <summary>Makers of monitors attached to the trainer (checkpoints, gradient health, snapshots…).</summary>
    public IList<IRunMonitorFactory> Monitors { get; } = [];

    /// <summary>The state of an interrupted run to continue from: a <see cref="TrainingState{T}"/> of the spec's precision, or null.</summary>
    public object? Resume { get; set; }

    /// <summary>Raised on the training thread once the network is built, before the first step.</summary>
    public event Action<RunStart>? Started;

    /// <summary>Raised on the training thread after every epoch, with its record (validation scored).</summary>
    public event Action<EpochRecord>? EpochCompleted;

    /// <summary>Raised on the training thread after every step.</summary>
    public event Action<StepInfo>? StepCompleted;

    /// <summary>Builds, trains and scores: the whole run.</summary>
    /// <exception cref="BackpropException">The resumed state does not fit the run, or the data cannot be scored.</exception>
    public RunResult Run() => Spec.Precision == Precision.Float ? Run<float>() : Run<double>();

    /// <summary>Runs in <typeparamref name="T"/> whatever <see cref="RunSpec.Precision"/> says.</summary>
    public RunResult<T> Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Resume is not null and not TrainingState<T>)
        {
            throw new BackpropException($"The state to resume holds other numbers than this run trains in ({typeof(T).Name}).");
        }
        var (train, validation, test, _) = Spec.Data;
        var network = Spec.Network.Build<T>();
        T[] start = [.. network.Elements().Select(e => e.Value)];
        var optimizer = Spec.Optimizer.Create(network.Parameters(), Spec.LearningRate);
        optimizer.WeightDecay = Spec.WeightDecay;
        optimizer.MaxGradientNorm = Spec.MaxGradientNorm;
        var trainer = CreateTrainer(network, Spec.Loss, optimizer);
        if (Spec.Network.InputShape.Rank > 1)
        {
            trainer.Evaluator.ExampleShape = Spec.Network.InputShape;
        }
        var group = Spec.Distributed;
        // Data-parallel: rank 0's starting values (and state to resume) on every process.
        group?.Attach(trainer);
        var resume = group is null ? Resume as TrainingState<T> : group.BroadcastState(Resume as TrainingState<T>);
        if (Spec.Patience is not null && resume is not null && !resume.Monitors.Any(m => m.Key == "earlyStopping"))
        {
            // NOTE: starting early stopping afresh would stop at another epoch than the uninterrupted run.
            throw new BackpropException("The state to resume holds no early-stopping state (checkpoints of format version 1 did not keep it), so this run with patience cannot continue exactly; start it again.");
        }
        var history = new EpochHistoryMonitor<T>(validation);
        if (EpochCompleted is { } epochs)
        {
            history.EpochCompleted += epochs;
        }
        // In this order at each epoch's end: the epoch scored, then the rate for the next one, then whether to stop.
        List<TrainingMonitor<T>> monitors = [history];
        if (Spec.Schedule is { } schedule)
        {
            monitors.Add(new LearningRateScheduler<T>(schedule, Spec.ScheduleUnit));
        }
        if (Spec.Patience is { } patience && Spec.EarlyStoppingRows is { } watched)
        {
            Func<Trainer<T>, double> metric = validation is not null
                ? _ => history.History[^1].ValidationLoss ?? double.NaN
                : t => t.Evaluator.Evaluate(watched).Loss;
            monitors.Add(new EarlyStopping<T>(metric, patience, restoreBestWeights: true, metricName: Spec.EarlyStoppingMetric));
        }
        var growth = Spec.DivergenceFactor is { } factor ? new DivergenceMonitor<T>(factor) : null;
        if (growth is not null)
        {
            monitors.Add(growth);
        }
        if (StepCompleted is { } steps)
        {
            monitors.Add(new StepEvents<T>(steps));
        }
        monitors.AddRange(Monitors.Select(f => f.Create(trainer)).OfType<TrainingMonitor<T>>());
        if (group is not null)
        {
            // Last: it sees every other monitor's stop request of the step.
            monitors.Add(new StopAgreement<T>(group));
        }
        Started?.Invoke(new RunStart(network.Describe(), network.ParameterCount(), typeof(T) == typeof(float) ? Precision.Float : Precision.Double, ModelSummary.Of(network, Spec.Network.InputShape)));
        TrainingResult result;
        {
            // The training tensors live only while training: the datasets keep their compact form.
            var (x, y) = TrainingTensors<T>(train);
            x = Spec.Network.AsExamples(x);
            result = trainer.Fit(x, y, Spec.Options, monitors, resume);
        }
        group?.VerifySameParameters(network);
        var outcome = new RunResult<T>(Spec, network, trainer, start, result, history.History, growth?.Message);
        if (outcome.Interrupted)
        {
            return outcome;
        }
        // One pass over each set: the training rows, the validation rows, then the test rows; the
        // confusion matrix and predicted classes are those of the test rows (else validation, else training).
        var evaluator = trainer.Evaluator;
        var scored = test ?? validation ?? train;
        var classification = Spec.Loss.IsClassification;
        var confusion = classification ? new ConfusionMatrix(train.ClassNames!) : null;
        var predicted = classification ? new int[scored.Count] : null;
        var confidences = classification ? new double[scored.Count] : null;
        Evaluation Score(Dataset set) => ReferenceEquals(set, scored) ? evaluator.Evaluate(set, confusion, predicted, confidences) : evaluator.Evaluate(set);
        outcome.SetScores(
            Score(train),
            validation is null ? null : Score(validation),
            test is null ? null : Score(test),
            confusion,
            test is not null ? "test" : validation is not null ? "validation" : "training",
            predicted,
            confidences,
            scored);
        return outcome;
    }

    /// <summary>
    /// Trains in double up to step <paramref name="step"/> and captures it: the values before, the
    /// gradients and the values after; the network is then set back to the values before the step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is below 1.</exception>
    public CapturedStep CaptureStep(int step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        var capture = new StepCaptureMonitor(step);
        var run = new TrainingRun(Spec with { Options = Spec.Options with { MaxSteps = step } });
        run.Monitors.Add(RunMonitor.Of(capture));
        var outcome = run.Run<double>();
        if (capture.Before is { } before)
        {
            var elements = outcome.Network.Elements().ToList();
            for (var i = 0; i < elements.Count; i++)
            {
                elements[i].Parameter.Data[elements[i].Index] = before[i];
            }
        }
        return new CapturedStep(step, outcome.Network, outcome.Result, capture.Before, capture.Gradients, capture.After, capture.Optimizer, capture.StateBefore, capture.StateAfter);
    }

    /// <summary>The trainer of <paramref name="network"/>; override to train another way (e.g. data-parallel).</summary>
    protected virtual Trainer<T> CreateTrainer<T>(Sequential<T> network, Loss loss, Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T>
        => new(network, loss, optimizer);

    /// <summary>The rows this process trains on, as tensors; override to train on a shard of <paramref name="train"/>.</summary>
    protected virtual (Tensor<T> Inputs, Tensor<T> Targets) TrainingTensors<T>(Dataset train) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(train);
        return train.TrainingTensors<T>();
    }

    private sealed class StepEvents<T>(Action<StepInfo> handler) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void OnStep(Trainer<T> trainer, in StepInfo info) => handler(info);
    }
}
