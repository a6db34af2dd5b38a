using System.Buffers.Binary;
using System.Numerics;
using Backprop.Nn;

namespace Backprop.Serialization;

/// <summary>
/// Writes a <see cref="Model{T}"/> as an ONNX model: opset 17, float32, with a dynamic batch
/// dimension. Input normalisation becomes Sub and Div, each Dense layer a Gemm, each activation its
/// ONNX operator (Softplus, Relu, Sigmoid, Tanh); a classifier also gets a Softmax.
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

    private const int FloatType = 1;        // TensorProto.DataType.FLOAT
    private const int AttributeInt = 2;     // AttributeProto.AttributeType.INT

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public static void Export<T>(Model<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var bytes = ToBytes(model);
        AtomicFile.Write(path, "ONNX model", s => s.Write(bytes));
    }

    /// <summary>The ONNX file's bytes (a serialized ModelProto) for <paramref name="model"/>.</summary>
    public static byte[] ToBytes<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new Graph();
        var x = "input";
        if (model.Normalization is { } n)
        {
            graph.Initializer("normalization.mean", [n.Count], [.. n.Mean.Select(v => (float)v)]);
            graph.Initializer("normalization.stdDev", [n.Count], [.. n.StdDev.Select(v => (float)v)]);
            x = graph.Node("Sub", [x, "normalization.mean"], "centred");
            x = graph.Node("Div", [x, "normalization.stdDev"], "normalized");
        }
        var last = model.Network.Layers.Count - 1;
        for (var i = 0; i <= last; i++)
        {
            var layer = model.Network.Layers[i];
            var name = $"layer{i}";
            Activation activation;
            if (layer is Dense<T> dense)
            {
                graph.Initializer(dense.Weight.Name!, [dense.Inputs, dense.Outputs], ToFloats(dense.Weight.Data));
                graph.Initializer(dense.Bias.Name!, [dense.Outputs], ToFloats(dense.Bias.Data));
                var sums = i == last && dense.Activation == Activation.Identity ? "output" : name + ".sums";
                // Gemm: Y = A·B + C, with C broadcast over the rows; W is stored [inputs, outputs], so no transpose.
                x = graph.Node("Gemm", [x, dense.Weight.Name!, dense.Bias.Name!], sums);
                activation = dense.Activation;
            }
            else
            {
                activation = ((ActivationLayer<T>)layer).Activation;
            }
            if (activation != Activation.Identity)
            {
                x = graph.Node(OperatorName(activation), [x], i == last ? "output" : name + ".out");
            }
            else if (i == last && x != "output")
            {
                x = graph.Node("Identity", [x], "output");
            }
        }
        var outputs = new List<(string Name, int Width)> { ("output", model.OutputCount) };
        if (model.IsClassifier)
        {
            graph.Node("Softmax", ["output"], "probabilities", ("axis", 1));
            outputs.Add(("probabilities", model.OutputCount));
        }

        return new ProtobufWriter()
            .Int(1, IrVersion)                                         // ModelProto.ir_version
            .String(2, "Backprop")                                     // producer_name
            .String(3, model.Metadata.LibraryVersion)                  // producer_version
            .String(6, Describe(model))                                // doc_string
            .Message(7, g => graph.Write(g, model.InputCount, outputs)) // graph
            .Message(8, o => o.String(1, "").Int(2, Opset))            // opset_import: OperatorSetIdProto{domain, version}
            .Message(14, e => e.String(1, "backprop.classNames").String(2, string.Join("\n", model.ClassNames ?? []))) // metadata_props
            .ToArray();
    }

    private static string Describe<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
        => $"{model.Network.Describe()}{(model.Normalization is null ? "" : ", inputs standardised first")}; exported by Backprop {model.Metadata.LibraryVersion}.";

    private static string OperatorName(Activation a) => a switch
    {
        Activation.SoftPlus => "Softplus",
        Activation.Relu => "Relu",
        Activation.Sigmoid => "Sigmoid",
        Activation.Tanh => "Tanh",
        _ => "Identity",
    };

    private static float[] ToFloats<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = float.CreateTruncating(values[i]);
        }
        return result;
    }

    /// <summary>The nodes and initializers of a GraphProto, collected in order.</summary>
    private sealed class Graph
    {
        private readonly List<Action<ProtobufWriter>> nodes = [];
        private readonly List<Action<ProtobufWriter>> initializers = [];

        public void Initializer(string name, long[] dims, float[] values)
            => initializers.Add(t =>
            {
                // TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian float32).
                foreach (var d in dims)
                {
                    t.Int(1, d);
                }
                t.Int(2, FloatType).String(8, name);
                var raw = new byte[values.Length * 4];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
                }
                t.Bytes(9, raw);
            });

        public string Node(string op, string[] inputs, string output, params (string Name, long Value)[] attributes)
        {
            var index = nodes.Count;
            nodes.Add(n =>
            {
                // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
                foreach (var i in inputs)
                {
                    n.String(1, i);
                }
                n.String(2, output).String(3, $"{op}_{index}").String(4, op);
                foreach (var (name, value) in attributes)
                {
                    // AttributeProto: name = 1, i = 3, type = 20.
                    n.Message(5, a => a.String(1, name).Int(3, value).Int(20, AttributeInt));
                }
            });
            return output;
        }

        public void Write(ProtobufWriter g, int inputs, IEnumerable<(string Name, int Width)> outputs)
        {
            // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
            foreach (var node in nodes)
            {
                g.Message(1, node);
            }
            g.String(2, "backprop");
            foreach (var initializer in initializers)
            {
                g.Message(5, initializer);
            }
            g.Message(11, v => ValueInfo(v, "input", inputs));
            foreach (var (name, width) in outputs)
            {
                g.Message(12, v => ValueInfo(v, name, width));
            }
        }

        // ValueInfoProto{name = 1, type = 2: TypeProto{tensor_type = 1: {elem_type = 1, shape = 2: TensorShapeProto{dim = 1}}}}
        // with dimensions [batch, width]: Dimension{dim_param = 2} for the batch, Dimension{dim_value = 1} for the width.
        private static void ValueInfo(ProtobufWriter v, string name, int width)
            => v.String(1, name).Message(2, type => type.Message(1, tensor => tensor
                .Int(1, FloatType)
                .Message(2, shape => shape
                    .Message(1, d => d.String(2, "batch"))
                    .Message(1, d => d.Int(1, width)))));
    }
}
