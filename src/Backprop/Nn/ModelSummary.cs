using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// A network's summary, as Keras' <c>model.summary()</c> and torchinfo give it: each layer with its
/// label, its output shape for a given input shape and its parameter count, then the totals. Each
/// line comes from the layer's kind (<see cref="LayerKind.Label"/>, <see cref="LayerKind.OutputShape"/>).
/// </summary>
/// <remarks>
/// Shapes are one example's, without the batch dimension (<c>[32, 28, 28]</c>). A layer with no
/// registered kind (a module of your own) is shown by its <see cref="Module{T}.Describe"/>, and its
/// output shape is found by running it once, in evaluation mode, on one example of zeros.
/// </remarks>
public sealed class ModelSummary
{
    private static readonly string[] Heading = ["Layer", "Kind", "Output shape", "Parameters"];

    private ModelSummary(Shape inputShape, IReadOnlyList<LayerSummary> layers)
    {
        InputShape = inputShape;
        Layers = layers;
        OutputShape = layers.Count == 0 ? inputShape : layers[^1].OutputShape;
    }

    /// <summary>One example's shape as the network takes it.</summary>
    public Shape InputShape { get; }

    /// <summary>One example's shape as the network gives it.</summary>
    public Shape OutputShape { get; }

    /// <summary>The layers, in order: a <see cref="Sequential{T}"/>'s layers, or the one module summarised.</summary>
    public IReadOnlyList<LayerSummary> Layers { get; }

    /// <summary>Numbers in all parameters, trained or held fixed.</summary>
    public long Parameters => Layers.Sum(l => l.Parameters);

    /// <summary>Parameter numbers the optimizer trains.</summary>
    public long TrainableParameters => Layers.Sum(l => l.TrainableParameters);

    /// <summary>Parameter numbers held fixed (frozen with <see cref="Module{T}.TrainOnly"/> or <see cref="Parameter{T}.SetTrainable(bool)"/>).</summary>
    public long NonTrainableParameters => Parameters - TrainableParameters;

    /// <summary>Numbers in buffers: state saved with the model but never trained (batch norm's running statistics).</summary>
    public long BufferNumbers => Layers.Sum(l => l.BufferNumbers);

    /// <summary>Summarises <paramref name="network"/> for examples of shape <paramref name="inputShape"/> (without the batch dimension).</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape the layer before it gives; the message names the layer.</exception>
    public static ModelSummary Of<T>(Module<T> network, Shape inputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        if (inputShape.Rank == 0)
        {
            throw new BackpropException("A summary needs the input shape of one example, e.g. [784] or [1, 28, 28].");
        }
        IReadOnlyList<Module<T>> modules = network is Sequential<T> sequential ? sequential.Layers : [network];
        var layers = new List<LayerSummary>(modules.Count);
        var shape = inputShape;
        for (var i = 0; i < modules.Count; i++)
        {
            var module = modules[i];
            string label;
            try
            {
                if (module.Kind is { } kind)
                {
                    var fields = kind.FieldsOf(module);
                    shape = kind.OutputShape(fields, shape);
                    label = kind.Label(fields);
                }
                else
                {
                    shape = ShapeByRunning(module, shape);
                    label = module.Describe();
                }
            }
            catch (BackpropException e)
            {
                throw new BackpropException($"Layer {i} ({module.Describe()}) cannot take examples of shape {shape}: {e.Message.TrimEnd('.')}.", e);
            }
            long parameters = 0, trainable = 0;
            foreach (var p in module.Parameters())
            {
                parameters += p.Length;
                foreach (var t in p.Trainable)
                {
                    trainable += t ? 1 : 0;
                }
            }
            var buffers = module.Buffers().Sum(b => (long)b.Length);
            var name = network is Sequential<T> ? $"layer{i}" : "network";
            layers.Add(new LayerSummary(name, module.Kind?.Name, label, shape, parameters, trainable, buffers));
        }
        return new ModelSummary(inputShape, layers);
    }

    /// <summary>
    /// The summary as a text table, e.g.
    /// <code>
    /// Layer   Kind                          Output shape   Parameters
    /// input                                 [1, 28, 28]
    /// layer0  Conv2d(32, 3×3, pad 1, ReLU)  [32, 28, 28]          320
    /// …
    /// Parameters: 421,642 (trained 421,642, fixed 0); buffers: 0 numbers
    /// </code>
    /// </summary>
    public string ToText()
    {
        List<string[]> rows = [Heading, ["input", "", InputShape.ToString(), ""]];
        rows.AddRange(Layers.Select(l => new[] { l.Name, l.Label, l.OutputShape.ToString(), Count(l.Parameters) }));
        var widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            var line = $"{row[0].PadRight(widths[0])}  {row[1].PadRight(widths[1])}  {row[2].PadRight(widths[2])}  {row[3].PadLeft(widths[3])}";
            text.Append(line.TrimEnd()).Append('\n');
        }
        text.Append($"Parameters: {Count(Parameters)} (trained {Count(TrainableParameters)}, fixed {Count(NonTrainableParameters)}); buffers: {Count(BufferNumbers)} number{(BufferNumbers == 1 ? "" : "s")}\n");
        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToText();

    /// <summary>
    /// Writes the summary as a JSON object: <c>inputShape</c>, <c>outputShape</c>, <c>layers</c> (each
    /// with <c>name</c>, <c>kind</c> — null for a module of your own — <c>label</c>, <c>outputShape</c>,
    /// <c>parameters</c>, <c>trainableParameters</c>, <c>bufferNumbers</c>), <c>parameters</c>,
    /// <c>trainableParameters</c>, <c>nonTrainableParameters</c> and <c>bufferNumbers</c>.
    /// </summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        WriteShape(json, "inputShape", InputShape);
        WriteShape(json, "outputShape", OutputShape);
        json.WriteStartArray("layers");
        foreach (var l in Layers)
        {
            json.WriteStartObject();
            json.WriteString("name", l.Name);
            if (l.Kind is null)
            {
                json.WriteNull("kind");
            }
            else
            {
                json.WriteString("kind", l.Kind);
            }
            json.WriteString("label", l.Label);
            WriteShape(json, "outputShape", l.OutputShape);
            json.WriteNumber("parameters", l.Parameters);
            json.WriteNumber("trainableParameters", l.TrainableParameters);
            json.WriteNumber("bufferNumbers", l.BufferNumbers);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("parameters", Parameters);
        json.WriteNumber("trainableParameters", TrainableParameters);
        json.WriteNumber("nonTrainableParameters", NonTrainableParameters);
        json.WriteNumber("bufferNumbers", BufferNumbers);
        json.WriteEndObject();
    }

    /// <summary>The summary as a JSON object (see <see cref="WriteJson"/>).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            WriteJson(json);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteShape(Utf8JsonWriter json, string name, Shape shape)
    {
        json.WriteStartArray(name);
        foreach (var d in shape.ToArray())
        {
            json.WriteNumberValue(d);
        }
        json.WriteEndArray();
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static Shape ShapeByRunning<T>(Module<T> module, Shape input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var example = new Tensor<T>(new Shape([1, .. input.ToArray()]));
        var output = module.Predict(example).Shape.ToArray();
        if (output.Length < 2 || output[0] != 1)
        {
            throw new BackpropException($"it gives shape {new Shape(output)} for one example; a layer keeps the batch dimension first");
        }
        return new Shape(output[1..]);
    }
}

/// <summary>One line of a <see cref="ModelSummary"/>.</summary>
/// <param name="Name">The layer's name in the network, e.g. <c>layer0</c> (its parameters are named after it).</param>
/// <param name="Kind">Its registered kind's name (<c>conv2d</c>), or null for a module of your own.</param>
/// <param name="Label">Its label, e.g. <c>Dense(128, ReLU)</c>.</param>
/// <param name="OutputShape">One example's shape after it.</param>
/// <param name="Parameters">Numbers in its parameters.</param>
/// <param name="TrainableParameters">Of those, the numbers the optimizer trains.</param>
/// <param name="BufferNumbers">Numbers in its buffers (state that is not trained).</param>
public sealed record LayerSummary(string Name, string? Kind, string Label, Shape OutputShape, long Parameters, long TrainableParameters, long BufferNumbers);
