using System.Collections;

namespace Backprop.Training;

/// <summary>
/// The loss of every step, kept in bounded memory: the loss after every k updates (k = 1, 2, 4, …,
/// doubling whenever more than <see cref="MaxKept"/> would be kept, as <see cref="SnapshotRecorder{T}"/>
/// thins its snapshots), plus always the latest. A run of any length keeps at most
/// <see cref="MaxKept"/> + 1 numbers; a run of up to <see cref="MaxKept"/> steps keeps every one.
/// </summary>
/// <remarks>
/// Entry i is the loss of the forward pass at the values after <see cref="StepOf"/>(i) updates. The
/// record is part of a run's <see cref="TrainingState{T}"/>: a resumed run continues thinning where
/// the interrupted one stopped, so both end with the same record. Adding allocates nothing.
/// </remarks>
public sealed class LossHistory : IReadOnlyList<double>
{
    /// <summary>The most losses kept on the grid of every k-th step (the latest is kept besides).</summary>
    public const int MaxKept = 4096;

    private readonly double[] values = new double[MaxKept + 2];
    private int count;
    private bool hasTail;

    /// <summary>Steps between the losses kept: 1 until the run outgrows <see cref="MaxKept"/>, then doubling.</summary>
    public int Interval { get; private set; } = 1;

    /// <summary>How many losses were recorded in all (kept or not).</summary>
    public int TotalCount { get; private set; }

    /// <summary>How many losses are kept.</summary>
    public int Count => count;

    /// <summary>Kept loss number <paramref name="index"/>, in order.</summary>
    public double this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
            return values[index];
        }
    }

    /// <summary>The updates made before kept loss <paramref name="index"/> was computed (its index among all the losses recorded).</summary>
    public int StepOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return hasTail && index == count - 1 ? TotalCount - 1 : index * Interval;
    }

    /// <summary>Records the next loss.</summary>
    public void Add(double loss)
    {
        if (hasTail)
        {
            // The latest loss is kept only until the next one arrives, unless it falls on the grid.
            count--;
            hasTail = false;
        }
        values[count++] = loss;
        hasTail = TotalCount % Interval != 0;
        TotalCount++;
        if (count - (hasTail ? 1 : 0) > MaxKept)
        {
            Thin();
        }
    }

    // Every other loss of the grid goes; the interval doubles. NOTE: this happens only just after a
    // loss was added on the grid, so there is no tail, and the last grid loss (an even one: MaxKept is
    // even) stays: the latest loss is still kept.
    private void Thin()
    {
        var kept = 0;
        for (var i = 0; i < count; i += 2)
        {
            values[kept++] = values[i];
        }
        count = kept;
        Interval *= 2;
    }

    /// <summary>A copy, for a state that must not change as training goes on.</summary>
    public LossHistory Clone()
    {
        var copy = new LossHistory();
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>Makes this record the same as <paramref name="other"/>.</summary>
    public void CopyFrom(LossHistory other)
    {
        ArgumentNullException.ThrowIfNull(other);
        other.values.AsSpan(0, other.count).CopyTo(values);
        (count, hasTail, Interval, TotalCount) = (other.count, other.hasTail, other.Interval, other.TotalCount);
    }

    /// <summary>Every loss of a run, recorded in order (as a run that kept them all would have).</summary>
    public static LossHistory Of(IEnumerable<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        var history = new LossHistory();
        foreach (var loss in losses)
        {
            history.Add(loss);
        }
        return history;
    }

    /// <summary>
    /// A record as saved: the kept losses, the interval and the total count (a checkpoint's); null when
    /// they do not describe a record this class keeps.
    /// </summary>
    public static LossHistory? Restore(IReadOnlyList<double> kept, int interval, int totalCount)
    {
        ArgumentNullException.ThrowIfNull(kept);
        if (interval < 1 || (interval & (interval - 1)) != 0 || totalCount < 0)
        {
            return null;
        }
        var grid = totalCount == 0 ? 0 : ((totalCount - 1) / interval) + 1;
        var tail = totalCount > 0 && (totalCount - 1) % interval != 0;
        if (kept.Count != grid + (tail ? 1 : 0) || grid > MaxKept || (interval > 1 && grid <= MaxKept / 2))
        {
            return null;
        }
        var history = new LossHistory { Interval = interval, TotalCount = totalCount, count = kept.Count, hasTail = tail };
        for (var i = 0; i < kept.Count; i++)
        {
            history.values[i] = kept[i];
        }
        return history;
    }

    /// <inheritdoc/>
    public IEnumerator<double> GetEnumerator()
    {
        for (var i = 0; i < count; i++)
        {
            yield return values[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
