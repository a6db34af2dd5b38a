namespace Backprop.Training;

/// <summary>
/// When to stop, and how to batch the data. The defaults are the lesson's; with <see cref="Epochs"/>
/// set, the lesson's step limits apply only when given (<c>new TrainingOptions { Epochs = 200 }</c>
/// trains 200 epochs).
/// </summary>
public sealed record TrainingOptions
{
    private int? maxSteps;
    private double? minStepSize;
    private bool minStepSizeGiven;

    /// <summary>
    /// The most steps (parameter updates) to take. Default 1000 (the lesson's), or no limit
    /// (<see cref="int.MaxValue"/>) when <see cref="Epochs"/> is set.
    /// </summary>
    public int MaxSteps
    {
        get => maxSteps ?? (Epochs is null ? 1000 : int.MaxValue);
        init => maxSteps = value;
    }

    /// <summary>
    /// Stop once every trained number's step size (learning rate × derivative for gradient descent)
    /// is below this; null to never stop for this reason. Default 0.001 (the lesson's), or null when
    /// <see cref="Epochs"/> is set.
    /// </summary>
    public double? MinStepSize
    {
        get => minStepSizeGiven ? minStepSize : (Epochs is null ? 0.001 : null);
        init => (minStepSize, minStepSizeGiven) = (value, true);
    }

    /// <summary>Stop as soon as the loss is at or below this; null (the default) to never stop for this reason.</summary>
    public double? TargetLoss { get; init; }

    /// <summary>Stop after this many passes over the data; null (the default) to never stop for this reason.</summary>
    public int? Epochs { get; init; }

    /// <summary>Rows per step; null (the default) for full batch: every row in every step.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Seed of the shuffling of rows between epochs (mini-batch only). Default 1.</summary>
    public ulong ShuffleSeed { get; init; } = 1;

    /// <summary>Checks the options, naming the first bad one.</summary>
    /// <exception cref="BackpropException">An option is out of range.</exception>
    public void Validate()
    {
        if (MaxSteps < 0)
        {
            throw new BackpropException($"The maximum number of steps must be 0 or more; got {MaxSteps}.");
        }
        if (MinStepSize is { } m && !(m >= 0 && double.IsFinite(m)))
        {
            throw new BackpropException($"The minimum step size must be a finite number ≥ 0; got {m}.");
        }
        if (TargetLoss is { } t && !double.IsFinite(t))
        {
            throw new BackpropException($"The target loss must be a finite number; got {t}.");
        }
        if (Epochs is { } e && e <= 0)
        {
            throw new BackpropException($"The number of epochs must be positive; got {e}.");
        }
        if (BatchSize is { } b && b <= 0)
        {
            throw new BackpropException($"The batch size must be positive; got {b}.");
        }
    }
}
