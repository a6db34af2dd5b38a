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
/// Only networks made of <see cref="Dense{T}"/> and <see cref="ActivationLayer{T}"/> layers inside
/// one <see cref="Sequential{T}"/> can be saved; that is every network Backprop builds today.
/// </remarks>
public sealed class Model<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly InputNormalization? normalization;
    private readonly IReadOnlyList<string>? classNames;

    /// <summary>Wraps <paramref name="network"/>; set the other properties with an object initializer.</summary>
    /// <exception cref="BackpropException">The network has a layer a model file cannot hold.</exception>
    public Model(Sequential<T> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        foreach (var layer in network.Layers)
        {
            if (layer is not (Dense<T> or ActivationLayer<T>))
            {
                throw new BackpropException($"A model can hold Dense and activation layers only; this network has {layer.Describe()}.");
            }
        }
        if (network.Layers[0] is not Dense<T>)
        {
            throw new BackpropException("A model's first layer must be Dense (it fixes the number of inputs).");
        }
        Network = network;
        InputCount = ((Dense<T>)network.Layers[0]).Inputs;
        OutputCount = network.Layers.OfType<Dense<T>>().Last().Outputs;
    }

    /// <summary>The network.</summary>
    public Sequential<T> Network { get; }

    /// <summary>Number of inputs per row.</summary>
    public int InputCount { get; }

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
    public ModelMetadata Metadata { get; init; } = new();

    /// <summary>Whether the model is a classifier (it has class names).</summary>
    public bool IsClassifier => classNames is not null;

    /// <summary>
    /// The network's outputs [rows, outputs] for raw inputs [rows, inputs], computed in evaluation mode
    /// (<see cref="Module{T}.Predict"/>): the inputs are normalised first when the model has a <see cref="Normalization"/>. For a classifier these are logits;
    /// see <see cref="PredictProbabilities"/>.
    /// </summary>
    /// <exception cref="BackpropException">The inputs are not rows of <see cref="InputCount"/> numbers.</exception>
    public Tensor<T> Predict(Tensor<T> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Shape.Rank != 2 || inputs.Shape[1] != InputCount)
        {
            throw new BackpropException($"The model takes rows of {InputCount} input{(InputCount == 1 ? "" : "s")}; it was given shape {inputs.Shape}.");
        }
        return Network.Predict(Normalize(inputs));
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
    /// <c>input</c> [batch, inputs], output <c>output</c> [batch, outputs] and, for a classifier,
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
