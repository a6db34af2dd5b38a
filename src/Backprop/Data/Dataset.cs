using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Rows of numeric inputs with their observed values (targets), plus column names. For
/// classification the single target column holds class indices 0, 1, … and <see cref="ClassNames"/>
/// names them.
/// </summary>
public sealed class Dataset
{
    private readonly FeatureStore features;
    private readonly double[] targets;
    private double[]? inputsAsDoubles;

    /// <summary>Creates a dataset from row-major inputs [count, inputCount] and targets [count, targetCount].</summary>
    public Dataset(string name, double[] inputs, double[] targets, IReadOnlyList<string> inputNames, IReadOnlyList<string> targetNames)
        : this(name, new DoubleFeatures(Checked(inputs, inputNames), inputNames.Count), targets, inputNames, targetNames, null)
    {
    }

    internal Dataset(string name, FeatureStore features, double[] targets, IReadOnlyList<string> inputNames, IReadOnlyList<string> targetNames, IReadOnlyList<string>? classNames)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(targetNames);
        if (inputNames.Count == 0 || targetNames.Count == 0)
        {
            throw new ArgumentException("A dataset needs at least one input column and one target column.");
        }
        if (features.Length % inputNames.Count != 0 || targets.Length % targetNames.Count != 0
            || features.Length / inputNames.Count != targets.Length / targetNames.Count || features.Length == 0)
        {
            throw new ArgumentException("Inputs and targets must hold the same, positive number of rows.");
        }
        if (classNames is not null)
        {
            if (targetNames.Count != 1 || classNames.Count < 2)
            {
                throw new ArgumentException("A classification dataset has one target column and at least two classes.");
            }
            var bad = Array.FindIndex(targets, t => !(t >= 0 && t < classNames.Count && t == Math.Floor(t)));
            if (bad >= 0)
            {
                throw new ArgumentException($"Target of row {bad} is {targets[bad]}, not a class index from 0 to {classNames.Count - 1}.");
            }
        }
        Name = name;
        this.features = features;
        this.targets = targets;
        InputNames = inputNames;
        TargetNames = targetNames;
        ClassNames = classNames;
    }

    /// <summary>
    /// Creates a classification dataset: row-major inputs [count, inputCount] and one class index per
    /// row (0 ≤ label &lt; classNames.Count).
    /// </summary>
    public static Dataset ForClassification(string name, double[] inputs, int[] labels, IReadOnlyList<string> inputNames, string targetName, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        return new(name, new DoubleFeatures(Checked(inputs, inputNames), inputNames.Count), [.. labels.Select(l => (double)l)], inputNames, [targetName], classNames);
    }

    /// <summary>Where the data came from (a file name, <c>dosage</c>, <c>fashion-mnist</c>).</summary>
    public string Name { get; }

    /// <summary>Number of rows.</summary>
    public int Count => features.Rows;

    /// <summary>Number of input columns.</summary>
    public int InputCount => InputNames.Count;

    /// <summary>Number of target columns.</summary>
    public int TargetCount => TargetNames.Count;

    /// <summary>Input column names.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Target column names.</summary>
    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>The class names, indexed by class, for classification data; null for regression data.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Whether the targets are class indices (see <see cref="ClassNames"/>).</summary>
    public bool IsClassification => ClassNames is not null;

    /// <summary>
    /// Inputs, row-major, as doubles. NOTE: image datasets keep their pixels as bytes; for them this
    /// makes (once) a double copy eight times their size — prefer <see cref="Input"/> or <see cref="InputTensor{T}"/>.
    /// </summary>
    public ReadOnlySpan<double> Inputs => features is DoubleFeatures d ? d.Values : inputsAsDoubles ??= ToDoubles(features);

    /// <summary>Targets, row-major (class indices for classification).</summary>
    public ReadOnlySpan<double> Targets => targets;

    /// <summary>The input at <paramref name="row"/>, <paramref name="column"/>.</summary>
    public double Input(int row, int column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Count);
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, InputCount);
        return features[(row * InputCount) + column];
    }

    /// <summary>
    /// The inputs and targets as tensors for training, which only reads them: in double, over the
    /// dataset's own arrays (no copy: a 100 MB CSV is not held twice); otherwise converted copies.
    /// </summary>
    internal (Tensor<T> Inputs, Tensor<T> Targets) TrainingTensors<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double) && features is DoubleFeatures d && d.Values.Length == Count * InputCount)
        {
            return (Tensor<T>.Over((T[])(object)d.Values, new Shape(Count, InputCount)), Tensor<T>.Over((T[])(object)targets, new Shape(Count, TargetCount)));
        }
        return (InputTensor<T>(), TargetTensor<T>());
    }

    /// <summary>Rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1 of the inputs as a [count, inputs] tensor (a copy).</summary>
    internal Tensor<T> InputRows<T>(int start, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(count, InputCount));
        features.CopyRows(start, count, t.Data);
        return t;
    }

    /// <summary>The inputs as a [count, inputs] tensor.</summary>
    public Tensor<T> InputTensor<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(Count, InputCount));
        features.CopyRows(0, Count, t.Data);
        return t;
    }

    /// <summary>The targets as a [count, targets] tensor (class indices as numbers for classification).</summary>
    public Tensor<T> TargetTensor<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(Count, TargetCount));
        var span = t.Data;
        for (var i = 0; i < targets.Length; i++)
        {
            span[i] = T.CreateChecked(targets[i]);
        }
        return t;
    }

    /// <summary>The first <paramref name="count"/> rows (all of them when there are fewer).</summary>
    public Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return count >= Count ? this : Select([.. Enumerable.Range(0, count)]);
    }

    /// <summary>
    /// Splits off <paramref name="validationRows"/> rows chosen at random (seeded) as a validation set;
    /// the rest, in their original order, is the training set.
    /// </summary>
    /// <exception cref="BackpropException">The split would leave either part empty.</exception>
    public (Dataset Train, Dataset Validation) Split(int validationRows, ulong seed)
    {
        if (validationRows <= 0 || validationRows >= Count)
        {
            throw new BackpropException($"A validation set of {validationRows} rows cannot be carved from {Name}'s {Count} rows: both parts need at least one row.");
        }
        var order = Enumerable.Range(0, Count).ToArray();
        new Rng(seed).Shuffle<int>(order);
        var validation = order[..validationRows];
        var train = order[validationRows..];
        Array.Sort(validation);
        Array.Sort(train);
        return (Select(train), Select(validation));
    }

    /// <summary>
    /// The same rows with the single target column read as class labels: each distinct value is a
    /// class, in numeric order, named by its value (targets 0, 1, 0 become classes "0" and "1").
    /// </summary>
    /// <exception cref="BackpropException">There is more than one target column, or fewer than two distinct values.</exception>
    public Dataset ToClassification()
    {
        if (IsClassification)
        {
            return this;
        }
        if (TargetCount != 1)
        {
            throw new BackpropException($"{Name} has {TargetCount} target columns; class labels need exactly one.");
        }
        var values = targets.Distinct().Order().ToArray();
        if (values.Length < 2)
        {
            throw new BackpropException($"{Name}'s target column '{TargetNames[0]}' has only one value; classification needs at least two classes.");
        }
        var labels = targets.Select(t => (double)Array.BinarySearch(values, t)).ToArray();
        var names = values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new Dataset(Name, features, labels, InputNames, TargetNames, names);
    }

    /// <summary>
    /// The same rows with their class labels numbered as in <paramref name="classNames"/> (another set's
    /// classes, e.g. the training data's for a test file, which may lack some classes or list them in
    /// another order). Values (regression) are read as class labels first, as <see cref="ToClassification"/> does.
    /// </summary>
    /// <exception cref="BackpropException">A label is not one of <paramref name="classNames"/>.</exception>
    public Dataset WithClasses(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var own = ToClassification();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < classNames.Count; i++)
        {
            index.TryAdd(classNames[i], i);
        }
        var map = new int[own.ClassNames!.Count];
        for (var c = 0; c < map.Length; c++)
        {
            if (!index.TryGetValue(own.ClassNames[c], out map[c]))
            {
                var listed = string.Join(", ", classNames.Take(10)) + (classNames.Count > 10 ? ", …" : "");
                throw new BackpropException($"{Name}: the class '{own.ClassNames[c]}' is not one of the training data's classes ({listed}).");
            }
        }
        var labels = own.targets.Select(t => (double)map[(int)t]).ToArray();
        return new Dataset(Name, features, labels, InputNames, TargetNames, classNames);
    }

    /// <summary>Per input column mean and standard deviation of this data (fit them on the training split only).</summary>
    public Standardization FitStandardization() => Standardization.Fit(this);

    /// <summary>The same rows with every input x replaced by (x − mean) / deviation of its column.</summary>
    public Dataset Standardize(Standardization standardization)
    {
        ArgumentNullException.ThrowIfNull(standardization);
        if (standardization.Means.Count != InputCount)
        {
            throw new BackpropException($"The standardisation has {standardization.Means.Count} columns but {Name} has {InputCount} inputs.");
        }
        var values = new double[Count * InputCount];
        for (var i = 0; i < values.Length; i++)
        {
            var c = i % InputCount;
            values[i] = (features[i] - standardization.Means[c]) / standardization.Deviations[c];
        }
        return new Dataset(Name, new DoubleFeatures(values, InputCount), targets, InputNames, TargetNames, ClassNames);
    }

    /// <summary>Copies rows [start, start + count) of the inputs into <paramref name="destination"/> (count × inputs values).</summary>
    public void CopyInputs<T>(int start, int count, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, count * InputCount);
        features.CopyRows(start, count, destination);
    }

    internal Dataset Select(int[] rows)
    {
        var selected = new double[rows.Length * TargetCount];
        for (var r = 0; r < rows.Length; r++)
        {
            targets.AsSpan(rows[r] * TargetCount, TargetCount).CopyTo(selected.AsSpan(r * TargetCount));
        }
        return new Dataset(Name, features.Select(rows), selected, InputNames, TargetNames, ClassNames);
    }

    private static double[] Checked(double[] inputs, IReadOnlyList<string> inputNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(inputNames);
        return inputNames.Count == 0 ? throw new ArgumentException("A dataset needs at least one input column and one target column.") : inputs;
    }

    private static double[] ToDoubles(FeatureStore store)
    {
        var values = new double[store.Length];
        store.CopyRows<double>(0, store.Rows, values);
        return values;
    }
}

/// <summary>Per-column means and standard deviations, fitted on training data and applied to every split.</summary>
/// <remarks>x′ = (x − mean) / deviation, with the population deviation; a constant column (deviation below <see cref="Serialization.InputNormalization.MinStdDev"/>) keeps deviation 1 (it is only centred).</remarks>
public sealed class Standardization
{
    private Standardization(double[] means, double[] deviations)
    {
        Means = means;
        Deviations = deviations;
    }

    /// <summary>The mean of each input column.</summary>
    public IReadOnlyList<double> Means { get; }

    /// <summary>The standard deviation of each input column (1 for a constant column).</summary>
    public IReadOnlyList<double> Deviations { get; }

    /// <summary>Fits the means and deviations of <paramref name="data"/>'s input columns.</summary>
    public static Standardization Fit(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int n = data.Count, columns = data.InputCount;
        var means = new double[columns];
        var squares = new double[columns];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                means[c] += data.Input(r, c);
            }
        }
        for (var c = 0; c < columns; c++)
        {
            means[c] /= n;
        }
        // Two passes: the mean first, then squared differences, which keeps the variance accurate.
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                var d = data.Input(r, c) - means[c];
                squares[c] += d * d;
            }
        }
        // A deviation too small to divide by (0, subnormal: see InputNormalization.MinStdDev) is a
        // constant column: it is only centred.
        var deviations = squares.Select(s => Math.Sqrt(s / n) is var sd && sd >= Serialization.InputNormalization.MinStdDev ? sd : 1.0).ToArray();
        if (Array.FindIndex(deviations, d => !double.IsFinite(d)) is var wide and >= 0)
        {
            throw new BackpropException($"{data.Name}: input column '{data.InputNames[wide]}' cannot be standardised: its values are so far apart that their deviation overflows.");
        }
        return new Standardization(means, deviations);
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
