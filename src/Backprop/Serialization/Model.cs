using System.Numerics;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Serialization;

/// <summary>
/// A trained network ready to travel: the network, how its inputs are normalised, the names of its
/// classes (for a classifier) and where it came from. It can be saved to a model file and loaded
/// back (<see cref="Save"/>, <see cref="Load"/>), used for predictions, and exported to ONNX.
/// </summary>
/// <remarks>
/// Any <see cref="Sequential{T}"/> whose layers all have a registered kind (<see cref="Module{T}.Kind"/>,
/// <see cref="LayerRegistry"/>) can be saved and exported; the model knows one example's input shape
/// (<c>[inputs]</c> for rows of numbers, <c>[channels, height, width]</c> for images) and its layers'
/// shapes follow from it.
/// </remarks>
public sealed class Model<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly InputNormalization? normalization;
    private readonly IReadOnlyList<string>? classNames;
    private readonly ModelMetadata metadata = new();

    /// <summary>
    /// Wraps <paramref name="network"/>, whose first layer is Dense (it fixes the number of inputs);
    /// set the other properties with an object initializer.
    /// </summary>
    /// <exception cref="BackpropException">The network has a layer a model file cannot hold, or does not start with a Dense layer.</exception>
    public Model(Sequential<T> network)
        : this(network, (network ?? throw new ArgumentNullException(nameof(network))).Layers[0] is Dense<T> first
            ? new Shape(first.Inputs)
            : throw new BackpropException($"Give the model its input shape: its first layer is {network.Layers[0].Describe()}, not Dense."))
    {
    }

    /// <summary>
    /// Wraps <paramref name="network"/>, which takes examples of shape <paramref name="inputShape"/>
    /// (without the batch dimension); set the other properties with an object initializer.
    /// </summary>
    /// <exception cref="BackpropException">A layer has no registered kind, a layer cannot take its input's shape, or the output is not one row of numbers per example.</exception>
    public Model(Sequential<T> network, Shape inputShape)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (inputShape.Rank == 0)
        {
            throw new BackpropException("A model's input shape needs at least one dimension.");
        }
        var shape = inputShape;
        for (var i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            var kind = layer.Kind ?? throw new BackpropException($"A model can hold layers of registered kinds only ({string.Join(", ", LayerRegistry.Kinds.Select(k => k.Name))}); this network has {layer.Describe()}.");
            try
            {
                shape = kind.OutputShape(kind.FieldsOf(layer), shape);
            }
            catch (BackpropException e)
            {
                throw new BackpropException($"Layer {i} ({layer.Describe()}): {e.Message.TrimEnd('.')}.", e);
            }
        }
        if (shape.Rank != 1)
        {
            throw new BackpropException($"A model's output is one row of numbers per example; this network gives examples of shape {shape} (end it with a flatten and a dense layer).");
        }
        Network = network;
        InputShape = inputShape;
        OutputCount = shape[0];
    }

    /// <summary>The network.</summary>
    public Sequential<T> Network { get; }

    /// <summary>One example's shape as the network takes it, without the batch dimension: <c>[inputs]</c> or e.g. <c>[1, 28, 28]</c>.</summary>
    public Shape InputShape { get; }

    /// <summary>Numbers per example (the product of <see cref="InputShape"/>): the length of one input row.</summary>
    public int InputCount => InputShape.Length;

    /// <summary>Number of network outputs per row (one per class for a classifier).</summary>
    public int OutputCount { get; }

    /// <summary>How inputs are standardised before the first layer; null when they are used as given.</summary>
    /// <exception cref="BackpropException">Its count differs from <see cref="InputCount"/>.</exception>
    public InputNormalization? Normalization
    {
        get => normalization;
        init
        {
            if (value is not null && value.Count != InputCount)
            {
                throw new BackpropException($"The input normalisation is for {value.Count} inputs; the network takes {InputCount}.");
            }
            for (var i = 0; value is not null && i < value.Count; i++)
            {
                // Predictions compute in T: the numbers must survive the conversion (a float32 model of double data).
                if (!T.IsFinite(T.CreateTruncating(value.Mean[i])) || !T.IsNormal(T.CreateTruncating(value.StdDev[i])))
                {
                    throw new BackpropException($"The input normalisation of input {i + 1} (mean {value.Mean[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}, standard deviation {value.StdDev[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}) does not fit in {(typeof(T) == typeof(float) ? "float32" : "float64")}.");
                }
            }
            normalization = value;
        }
    }

    /// <summary>
    /// The class names of a classifier, one per output (the network's outputs are then logits); null
    /// for a regression model.
    /// </summary>
    /// <exception cref="BackpropException">The count differs from <see cref="OutputCount"/>, or a name is empty or repeated.</exception>
    public IReadOnlyList<string>? ClassNames
    {
        get => classNames;
        init
        {
            if (value is not null)
            {
                if (value.Count != OutputCount)
                {
                    throw new BackpropException($"A classifier needs one class name per output: the network has {OutputCount} outputs and {value.Count} class names were given.");
                }
                if (value.Any(string.IsNullOrEmpty) || value.Distinct(StringComparer.Ordinal).Count() != value.Count)
                {
                    throw new BackpropException("Class names must be non-empty and distinct.");
                }
                value = [.. value];
            }
            classNames = value;
        }
    }

    /// <summary>Where the model came from: library version, seed, data fingerprint, loss, date, column names.</summary>
    /// <exception cref="BackpropException">It names a different number of input or output columns than the network has.</exception>
    public ModelMetadata Metadata
    {
        get => metadata;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.InputNames is { } inputs && inputs.Count != InputCount)
            {
                throw new BackpropException($"metadata.inputNames names {inputs.Count} input column{(inputs.Count == 1 ? "" : "s")}; the network takes {InputCount}.");
            }
            if (value.OutputNames is { } outputs && outputs.Count != OutputCount)
            {
                throw new BackpropException($"metadata.outputNames names {outputs.Count} output column{(outputs.Count == 1 ? "" : "s")}; the network has {OutputCount}.");
            }
            metadata = value;
        }
    }

    /// <summary>Whether the model is a classifier (it has class names).</summary>
    public bool IsClassifier => classNames is not null;

    /// <summary>
    /// The network's outputs [rows, outputs] for raw inputs: rows of <see cref="InputCount"/> numbers
    /// [rows, inputs] (reshaped to [rows, …<see cref="InputShape"/>]) or examples [rows, …InputShape].
    /// They are computed in evaluation mode (<see cref="Module{T}.Predict"/>); the inputs are normalised first when the model has a <see cref="Normalization"/>. For a
    /// classifier these are logits; see <see cref="PredictProbabilities"/>.
    /// </summary>
    /// <exception cref="BackpropException">The inputs are neither rows of <see cref="InputCount"/> numbers nor examples of <see cref="InputShape"/>.</exception>
    public Tensor<T> Predict(Tensor<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Shape.ToArray();
        var asRows = dims.Length == 2 && dims[1] == InputCount;
        var asExamples = dims.Length == InputShape.Rank + 1 && dims.AsSpan(1).SequenceEqual(InputShape.ToArray());
        if (!asRows && !asExamples)
        {
            throw new BackpropException(InputShape.Rank == 1
                ? $"The model takes rows of {InputCount} input{(InputCount == 1 ? "" : "s")}; it was given shape {inputs.Shape}."
                : $"The model takes examples of shape {InputShape} (or rows of {InputCount} numbers); it was given shape {inputs.Shape}.");
        }
        var x = Normalize(inputs);
        if (InputShape.Rank > 1 && asRows)
        {
            x = new Tensor<T>(x.Data, new Shape([dims[0], .. InputShape.ToArray()]));
        }
        return Network.Predict(x);
    }

    /// <summary>A classifier's class probabilities [rows, classes]: the softmax of <see cref="Predict"/>'s logits.</summary>
    /// <remarks>softmax(z)ᵢ = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z); subtracting the largest logit keeps e^ from overflowing.</remarks>
    /// <exception cref="BackpropException">The model is not a classifier, or the inputs have the wrong shape.</exception>
    public Tensor<T> PredictProbabilities(Tensor<T> inputs)
    {
        if (!IsClassifier)
        {
            throw new BackpropException("Class probabilities need a classifier; this model predicts values (it has no class names).");
        }
        var logits = Predict(inputs);
        var result = new Tensor<T>(logits.Shape);
        var classes = logits.Shape[1];
        for (var r = 0; r < logits.Shape[0]; r++)
        {
            var z = logits.Data.Slice(r * classes, classes);
            var p = result.Data.Slice(r * classes, classes);
            var max = z[0];
            foreach (var v in z)
            {
                max = T.Max(max, v);
            }
            var sum = T.Zero;
            for (var c = 0; c < classes; c++)
            {
                p[c] = T.Exp(z[c] - max);
                sum += p[c];
            }
            for (var c = 0; c < classes; c++)
            {
                p[c] /= sum;
            }
        }
        return result;
    }

    /// <summary>The network's summary for its input shape: each layer's label, output shape and parameter count, and the totals.</summary>
    public ModelSummary Summary() => ModelSummary.Of(Network, InputShape);

    /// <summary>Saves the model to <paramref name="path"/> (see docs/model-format.md), replacing the file atomically.</summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>
    /// Loads a model file. Numbers are converted to <typeparamref name="T"/> if the file holds the other
    /// type; loading into the type it was saved from restores every number, and so every prediction, bit for bit.
    /// </summary>
    /// <exception cref="BackpropException">The file is missing, unreadable, not a model file, of a newer format, corrupt or inconsistent; the message names the file and the problem.</exception>
    public static Model<T> Load(string path) => ModelFile.Load<T>(path);

    /// <summary>
    /// Writes the model as an ONNX model (opset 17, float32) with a dynamic batch dimension: input
    /// <c>input</c> [batch, …<see cref="InputShape"/>], output <c>output</c> [batch, outputs] and, for a classifier,
    /// <c>probabilities</c> [batch, classes].
    /// </summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public void ExportOnnx(string path)
    {
        // Export describes the network as it predicts: in evaluation mode (no Dropout, BatchNorm's running statistics).
        using var mode = Network.InMode(training: false);
        OnnxExporter.Export(this, path);
    }

    private Tensor<T> Normalize(Tensor<T> inputs)
    {
        if (normalization is null)
        {
            return inputs;
        }
        var result = new Tensor<T>(inputs.Shape);
        var x = inputs.Data;
        var y = result.Data;
        for (var i = 0; i < x.Length; i++)
        {
            var c = i % InputCount;
            y[i] = (x[i] - T.CreateChecked(normalization.Mean[c])) / T.CreateChecked(normalization.StdDev[c]);
        }
        return result;
    }
}
