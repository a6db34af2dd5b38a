using System.Globalization;
using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>Whether a monitored metric improves by going down (a loss) or up (an accuracy).</summary>
public enum MetricGoal
{
    /// <summary>Lower is better (a loss, an error).</summary>
    Minimize,

    /// <summary>Higher is better (an accuracy, R²).</summary>
    Maximize,
}

/// <summary>
/// Stops training when a metric, read at the end of each epoch (usually the validation loss), has
/// not improved for <see cref="Patience"/> epochs, and can put back the weights of its best epoch:
/// Keras's <c>EarlyStopping</c> (monitor, min_delta, patience, restore_best_weights, mode).
/// </summary>
/// <remarks>
/// <para>
/// At each epoch's end: the wait grows by one; a value better than the best by more than
/// <see cref="MinDelta"/> (below best − minDelta when minimising, above best + minDelta when maximising)
/// becomes the best and sets the wait to 0; otherwise, once the wait reaches the patience (never at
/// the first epoch), training stops, and with <see cref="RestoreBestWeights"/> the parameters are set
/// to those of the best epoch, as Keras does (only when it stops training: a run that ends for another
/// reason keeps its last weights). A NaN metric is never an improvement.
/// </para>
/// <para>
/// The metric is a function the caller gives, called once per epoch after the monitors before this one
/// in the list, so it can read a validation loss another monitor (<see cref="EpochHistoryMonitor{T}"/>) has just
/// computed; <see cref="OnLoss"/> scores held-out rows itself. The best weights are copied into arrays
/// made at the start (no allocation per step). Its best value, epoch, wait and best weights are part of
/// the trainer's state (<see cref="SaveState"/>, under the name <c>earlyStopping</c>), so a checkpoint holds
/// them and a resumed run stops at the epoch, with the weights, an uninterrupted one would.
/// </para>
/// </remarks>
public sealed class EarlyStopping<T> : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<Trainer<T>, double> metric;
    private T[][] bestWeights = [];
    private int wait;
    private int epochs;

    /// <summary>Watches <paramref name="metric"/>, named <paramref name="metricName"/> in the stop message.</summary>
    /// <exception cref="ArgumentOutOfRangeException">patience is negative, or minDelta negative or not finite.</exception>
    public EarlyStopping(Func<Trainer<T>, double> metric, int patience = 0, double minDelta = 0, bool restoreBestWeights = false,
        MetricGoal goal = MetricGoal.Minimize, string metricName = "validation loss")
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        if (!(minDelta >= 0 && double.IsFinite(minDelta)))
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "The smallest improvement must be a finite number ≥ 0.");
        }
        ArgumentException.ThrowIfNullOrWhiteSpace(metricName);
        this.metric = metric;
        Patience = patience;
        MinDelta = minDelta;
        RestoreBestWeights = restoreBestWeights;
        Goal = goal;
        MetricName = metricName;
    }

    /// <summary>
    /// Stops when the loss on <paramref name="inputs"/> against <paramref name="targets"/> (held-out rows),
    /// scored with the trainer's loss at each epoch's end, stops improving.
    /// </summary>
    public static EarlyStopping<T> OnLoss(Tensor<T> inputs, Tensor<T> targets, int patience = 0, double minDelta = 0, bool restoreBestWeights = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        return new EarlyStopping<T>(t => t.Evaluator.Evaluate(inputs, targets).Loss, patience, minDelta, restoreBestWeights);
    }

    /// <summary>Epochs without improvement after which training stops (Keras's <c>patience</c>).</summary>
    public int Patience { get; }

    /// <summary>The smallest change that counts as an improvement (Keras's <c>min_delta</c>).</summary>
    public double MinDelta { get; }

    /// <summary>Whether stopping puts back the parameters of the best epoch (Keras's <c>restore_best_weights</c>).</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>Whether the metric improves downwards or upwards (Keras's <c>mode</c>).</summary>
    public MetricGoal Goal { get; }

    /// <summary>The metric's name in the stop message.</summary>
    public string MetricName { get; }

    /// <summary>The best value so far; NaN before the first epoch's end.</summary>
    public double Best { get; private set; } = double.NaN;

    /// <summary>The epoch of <see cref="Best"/> (1 for the first); 0 before the first epoch's end.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The epoch at whose end this monitor stopped training; 0 if it has not.</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The metric's value at each epoch's end, in order (of a resumed run: since it resumed).</summary>
    public IReadOnlyList<double> History => history;

    private readonly List<double> history = [];

    /// <inheritdoc/>
    public override void OnStart(Trainer<T> trainer, double initialLoss)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        (Best, BestEpoch, StoppedEpoch, wait, epochs) = (double.NaN, 0, 0, 0, 0);
        history.Clear();
        bestWeights = RestoreBestWeights ? [.. trainer.Model.Parameters().Select(p => new T[p.Length])] : [];
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(Trainer<T> trainer, int epoch)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var value = metric(trainer);
        history.Add(value);
        wait++;
        epochs++;
        if (IsImprovement(value))
        {
            (Best, BestEpoch, wait) = (value, epoch, 0);
            if (RestoreBestWeights)
            {
                Copy(trainer, toBest: true);
            }
            return;
        }
        if (wait >= Patience && epochs > 1)
        {
            StoppedEpoch = epoch;
            var restored = RestoreBestWeights && BestEpoch > 0;
            if (restored)
            {
                Copy(trainer, toBest: false);
            }
            var best = BestEpoch > 0 ? string.Create(CultureInfo.InvariantCulture, $"; the best was {Best:G6} at epoch {BestEpoch}{(restored ? ", whose weights were restored" : "")}") : "";
            var delta = MinDelta > 0 ? string.Create(CultureInfo.InvariantCulture, $" by more than {MinDelta:G6}") : "";
            trainer.RequestStop(StopReason.Stopped, $"stopped early: the {MetricName} did not improve{delta} for {wait} epoch{(wait == 1 ? "" : "s")}{best}");
        }
    }

    /// <inheritdoc/>
    public override string? StateName => "earlyStopping";

    private const string WeightsPrefix = "bestWeights/";

    /// <inheritdoc/>
    /// <remarks>The best value, its epoch, the wait, the epochs seen, the epoch it stopped at, and the best weights (by parameter name).</remarks>
    public override MonitorState<T>? SaveState(Trainer<T> trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var weights = new List<KeyValuePair<string, T[]>>();
        if (RestoreBestWeights && BestEpoch > 0)
        {
            var i = 0;
            foreach (var p in trainer.Model.Parameters())
            {
                weights.Add(new(WeightsPrefix + (p.Name ?? i.ToString(CultureInfo.InvariantCulture)), [.. bestWeights[i]]));
                i++;
            }
        }
        return new MonitorState<T>
        {
            Numbers = [new("best", Best), new("bestEpoch", BestEpoch), new("wait", wait), new("epochs", epochs), new("stoppedEpoch", StoppedEpoch)],
            Arrays = weights,
        };
    }

    /// <inheritdoc/>
    public override void RestoreState(Trainer<T> trainer, MonitorState<T> state)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(state);
        var (best, bestEpoch, savedWait, seen, stopped) = (state.Number("best"), state.Count("bestEpoch"), state.Count("wait"), state.Count("epochs"), state.Count("stoppedEpoch"));
        if (double.IsNaN(best) != (bestEpoch == 0) || bestEpoch > seen || savedWait > seen)
        {
            throw new BackpropException($"The saved early-stopping state is inconsistent: best {best} at epoch {bestEpoch}, a wait of {savedWait}, {seen} epochs seen.");
        }
        if (RestoreBestWeights && bestEpoch > 0)
        {
            var parameters = trainer.Model.Parameters().ToList();
            if (state.Arrays.Count != parameters.Count)
            {
                throw new BackpropException($"The saved early-stopping state holds {state.Arrays.Count} arrays of best weights; the network has {parameters.Count} parameters.");
            }
            for (var i = 0; i < parameters.Count; i++)
            {
                var (name, values) = (state.Arrays[i].Key, state.Arrays[i].Value);
                if (name != WeightsPrefix + (parameters[i].Name ?? i.ToString(CultureInfo.InvariantCulture)) || values.Length != parameters[i].Length)
                {
                    throw new BackpropException($"The saved early-stopping state's best weights {i + 1} are {name} with {values.Length} numbers; the network's parameter is {parameters[i].Name} with {parameters[i].Length}.");
                }
            }
            for (var i = 0; i < parameters.Count; i++)
            {
                state.Arrays[i].Value.CopyTo(bestWeights[i], 0);
            }
        }
        (Best, BestEpoch, wait, epochs, StoppedEpoch) = (best, bestEpoch, savedWait, seen, stopped);
    }

    private bool IsImprovement(double value)
    {
        if (double.IsNaN(value))
        {
            return false;
        }
        if (double.IsNaN(Best))
        {
            return true;
        }
        return Goal == MetricGoal.Minimize ? value < Best - MinDelta : value > Best + MinDelta;
    }

    private void Copy(Trainer<T> trainer, bool toBest)
    {
        var i = 0;
        foreach (var p in trainer.Model.Parameters())
        {
            if (toBest)
            {
                p.Data.CopyTo(bestWeights[i]);
            }
            else
            {
                bestWeights[i].CopyTo(p.Data);
            }
            i++;
        }
    }
}
