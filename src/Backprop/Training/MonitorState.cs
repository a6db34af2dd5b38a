using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// What a <see cref="TrainingMonitor{T}"/> must keep for a resumed run to go on as if it had never
/// stopped (early stopping's best value, wait and best weights), saved in a <see cref="TrainingState{T}"/>
/// and so in checkpoints: named numbers, and named arrays of the run's element type.
/// </summary>
/// <remarks>
/// Names are the monitor's own; an array's name may contain <c>/</c> (<c>bestWeights/layer0.weight</c>).
/// Numbers may be NaN or infinite (a best value before the first epoch is NaN); arrays hold finite numbers.
/// </remarks>
public sealed record MonitorState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The monitor's numbers, by name.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Numbers { get; init; } = [];

    /// <summary>The monitor's arrays, by name.</summary>
    public IReadOnlyList<KeyValuePair<string, T[]>> Arrays { get; init; } = [];

    /// <summary>The number called <paramref name="name"/>.</summary>
    /// <exception cref="BackpropException">There is none: the state is not this monitor's.</exception>
    public double Number(string name)
    {
        foreach (var (key, value) in Numbers)
        {
            if (key == name)
            {
                return value;
            }
        }
        throw new BackpropException($"The saved monitor state has no number '{name}'.");
    }

    /// <summary>The number called <paramref name="name"/> as a whole number ≥ 0.</summary>
    /// <exception cref="BackpropException">There is none, or it is not a whole number ≥ 0.</exception>
    public int Count(string name)
    {
        var value = Number(name);
        return value >= 0 && value <= int.MaxValue && value == Math.Floor(value)
            ? (int)value
            : throw new BackpropException($"The saved monitor state's '{name}' is {value}, not a whole number ≥ 0.");
    }
}
