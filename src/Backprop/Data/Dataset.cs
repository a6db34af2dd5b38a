using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Rows of numeric inputs with their observed values (targets), plus column names.
/// </summary>
public sealed class Dataset
{
    private readonly double[] inputs;
    private readonly double[] targets;

    /// <summary>Creates a dataset from row-major inputs [count, inputCount] and targets [count, targetCount].</summary>
    public Dataset(string name, double[] inputs, double[] targets, IReadOnlyList<string> inputNames, IReadOnlyList<string> targetNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(targetNames);
        if (inputNames.Count == 0 || targetNames.Count == 0)
        {
            throw new ArgumentException("A dataset needs at least one input column and one target column.");
        }
        if (inputs.Length % inputNames.Count != 0 || targets.Length % targetNames.Count != 0
            || inputs.Length / inputNames.Count != targets.Length / targetNames.Count || inputs.Length == 0)
        {
            throw new ArgumentException("Inputs and targets must hold the same, positive number of rows.");
        }
        Name = name;
        this.inputs = inputs;
        this.targets = targets;
        InputNames = inputNames;
        TargetNames = targetNames;
    }

    /// <summary>Where the data came from (a file name, or <c>dosage</c>).</summary>
    public string Name { get; }

    /// <summary>Number of rows.</summary>
    public int Count => inputs.Length / InputCount;

    /// <summary>Number of input columns.</summary>
    public int InputCount => InputNames.Count;

    /// <summary>Number of target columns.</summary>
    public int TargetCount => TargetNames.Count;

    /// <summary>Input column names.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Target column names.</summary>
    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>Inputs, row-major.</summary>
    public ReadOnlySpan<double> Inputs => inputs;

    /// <summary>Targets, row-major.</summary>
    public ReadOnlySpan<double> Targets => targets;

    /// <summary>The inputs as a [count, inputs] tensor.</summary>
    public Tensor<T> InputTensor<T>() where T : unmanaged, IFloatingPointIeee754<T> => ToTensor<T>(inputs, InputCount);

    /// <summary>The targets as a [count, targets] tensor.</summary>
    public Tensor<T> TargetTensor<T>() where T : unmanaged, IFloatingPointIeee754<T> => ToTensor<T>(targets, TargetCount);

    private Tensor<T> ToTensor<T>(double[] values, int columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(Count, columns));
        var span = t.Data;
        for (var i = 0; i < values.Length; i++)
        {
            span[i] = T.CreateChecked(values[i]);
        }
        return t;
    }
}

/// <summary>Built-in datasets.</summary>
public static class Datasets
{
    /// <summary>
    /// The lesson's drug dosage data: dosage 0, 0.5, 1 with efficacy 0, 1, 0 — low and high doses do
    /// nothing, a medium dose works.
    /// </summary>
    public static Dataset Dosage { get; } = new("dosage", [0.0, 0.5, 1.0], [0.0, 1.0, 0.0], ["Dosage"], ["Efficacy"]);
}
