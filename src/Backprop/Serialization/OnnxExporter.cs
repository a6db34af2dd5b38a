using System.Numerics;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Serialization;

/// <summary>
/// Writes a <see cref="Model{T}"/> as an ONNX model: opset 17, float32, with a dynamic batch
/// dimension. Input normalisation becomes Sub and Div; each layer's kind adds its own nodes
/// (<see cref="LayerKind.ExportOnnx{T}"/>: a dense layer a Gemm, an activation its operator, …) and
/// says its output shape; an Identity names the result <c>output</c>; a classifier also gets a Softmax.
/// </summary>
/// <remarks>
/// The protobuf is written by hand (<see cref="ProtobufWriter"/>) so that the library needs no
/// ONNX or protobuf package. Field numbers are those of onnx.proto (ONNX IR version 8).
/// </remarks>
public static class OnnxExporter
{
    /// <summary>ONNX IR version 8 goes with opset 17 (ONNX 1.12).</summary>
    public const long IrVersion = 8;

    /// <summary>The default-domain operator set the graph uses.</summary>
    public const long Opset = 17;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public static void Export<T>(Model<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var bytes = ToBytes(model);
        AtomicFile.Write(path, "ONNX model", s => s.Write(bytes));
    }

    /// <summary>The ONNX file's bytes (a serialized ModelProto) for <paramref name="model"/>.</summary>
    /// <exception cref="BackpropException">A layer has no registered kind.</exception>
    public static byte[] ToBytes<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new OnnxGraph();
        var x = "input";
        var shape = model.InputShape;
        if (model.Normalization is { } n)
        {
            graph.Initializer("normalization.mean", shape, (ReadOnlySpan<double>)[.. n.Mean]);
            graph.Initializer("normalization.stdDev", shape, (ReadOnlySpan<double>)[.. n.StdDev]);
            x = graph.Node("Sub", [x, "normalization.mean"], "centred");
            x = graph.Node("Div", [x, "normalization.stdDev"], "normalized");
        }
        for (var i = 0; i < model.Network.Layers.Count; i++)
        {
            var layer = model.Network.Layers[i];
            var kind = ModelFile.KindOf(layer);
            x = kind.ExportOnnx(layer, graph, x, shape, $"layer{i}");
            shape = kind.OutputShape(kind.FieldsOf(layer), shape);
        }
        graph.Node("Identity", [x], "output");
        var outputs = new List<(string Name, Shape Shape)> { ("output", shape) };
        if (model.IsClassifier)
        {
            graph.Node("Softmax", ["output"], "probabilities", OnnxAttr.Int("axis", 1));
            outputs.Add(("probabilities", shape));
        }

        return new ProtobufWriter()
            .Int(1, IrVersion)                                         // ModelProto.ir_version
            .String(2, "Backprop")                                     // producer_name
            .String(3, model.Metadata.LibraryVersion)                  // producer_version
            .String(6, Describe(model))                                // doc_string
            .Message(7, g => graph.Write(g, "input", model.InputShape, outputs)) // graph
            .Message(8, o => o.String(1, "").Int(2, Opset))            // opset_import: OperatorSetIdProto{domain, version}
            .Message(14, e => e.String(1, "backprop.classNames").String(2, string.Join("\n", model.ClassNames ?? []))) // metadata_props
            .ToArray();
    }

    private static string Describe<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
        => $"{model.Network.Describe()}{(model.Normalization is null ? "" : ", inputs standardised first")}; exported by Backprop {model.Metadata.LibraryVersion}.";
}
