using System.Buffers.Binary;
using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Serialization;

/// <summary>
/// The ONNX graph being exported: each layer kind adds its nodes and initializers here
/// (<see cref="Nn.LayerKind.ExportOnnx{T}"/>); <see cref="OnnxExporter"/> wraps them into a model.
/// </summary>
/// <remarks>
/// Tensors are named by strings. Every number is exported as float32; shape tensors (for Reshape) as int64.
/// Field numbers are those of onnx.proto: NodeProto{input = 1, output = 2, name = 3, op_type = 4,
/// attribute = 5}, TensorProto{dims = 1, data_type = 2, name = 8, raw_data = 9}.
/// </remarks>
public sealed class OnnxGraph
{
    private const int FloatType = 1;        // TensorProto.DataType.FLOAT
    private const int Int64Type = 7;        // TensorProto.DataType.INT64

    private readonly List<Action<ProtobufWriter>> nodes = [];
    private readonly List<Action<ProtobufWriter>> initializers = [];
    private readonly HashSet<string> names = [];

    internal OnnxGraph()
    {
    }

    /// <summary>Adds a constant float32 tensor (weights, biases, statistics); returns its name.</summary>
    /// <exception cref="ArgumentException">The name is taken, or the values do not fill the shape.</exception>
    public string Initializer<T>(string name, Shape shape, ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (values.Length != shape.Length)
        {
            throw new ArgumentException($"{values.Length} values cannot fill {name} of shape {shape}.", nameof(values));
        }
        Claim(name);
        var raw = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), float.CreateTruncating(values[i]));
        }
        initializers.Add(t => Tensor(t, name, shape.ToArray(), FloatType, raw));
        return name;
    }

    /// <summary>Adds a constant int64 vector (e.g. the target shape of a Reshape); returns its name.</summary>
    /// <exception cref="ArgumentException">The name is taken.</exception>
    public string Int64Initializer(string name, ReadOnlySpan<long> values)
    {
        Claim(name);
        var raw = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), values[i]);
        }
        var length = values.Length;
        initializers.Add(t => Tensor(t, name, [length], Int64Type, raw));
        return name;
    }

    /// <summary>
    /// Adds a node <paramref name="op"/> (an ONNX operator of the default domain, opset 17) reading
    /// <paramref name="inputs"/> and writing <paramref name="output"/>; returns the output's name.
    /// </summary>
    /// <exception cref="ArgumentException">The output name is taken.</exception>
    public string Node(string op, IReadOnlyList<string> inputs, string output, params OnnxAttr[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(op);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(attributes);
        Claim(output);
        var index = nodes.Count;
        string[] ins = [.. inputs];
        var attrs = attributes.ToArray();
        nodes.Add(n =>
        {
            foreach (var i in ins)
            {
                n.String(1, i);
            }
            n.String(2, output).String(3, $"{op}_{index}").String(4, op);
            foreach (var a in attrs)
            {
                n.Message(5, a.Write);
            }
        });
        return output;
    }

    private void Claim(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!names.Add(name))
        {
            throw new ArgumentException($"The ONNX graph already has a tensor named '{name}'.", nameof(name));
        }
    }

    private static void Tensor(ProtobufWriter t, string name, IEnumerable<int> dims, int type, byte[] raw)
    {
        foreach (var d in dims)
        {
            t.Int(1, d);
        }
        t.Int(2, type).String(8, name).Bytes(9, raw);
    }

    /// <summary>
    /// Writes the GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12. Inputs and
    /// outputs are [batch, …] with a dynamic first dimension named <c>batch</c>.
    /// </summary>
    internal void Write(ProtobufWriter g, string input, Shape inputShape, IEnumerable<(string Name, Shape Shape)> outputs)
    {
        foreach (var node in nodes)
        {
            g.Message(1, node);
        }
        g.String(2, "backprop");
        foreach (var initializer in initializers)
        {
            g.Message(5, initializer);
        }
        g.Message(11, v => ValueInfo(v, input, inputShape));
        foreach (var (name, shape) in outputs)
        {
            g.Message(12, v => ValueInfo(v, name, shape));
        }
    }

    // ValueInfoProto{name = 1, type = 2: TypeProto{tensor_type = 1: {elem_type = 1, shape = 2: TensorShapeProto{dim = 1}}}}:
    // Dimension{dim_param = 2} for the batch, Dimension{dim_value = 1} for the others.
    private static void ValueInfo(ProtobufWriter v, string name, Shape shape)
        => v.String(1, name).Message(2, type => type.Message(1, tensor => tensor
            .Int(1, FloatType)
            .Message(2, s =>
            {
                s.Message(1, d => d.String(2, "batch"));
                foreach (var n in shape.ToArray())
                {
                    s.Message(1, d => d.Int(1, n));
                }
            })));
}

/// <summary>An attribute of an ONNX node: a whole number, a number or a list of whole numbers.</summary>
public readonly struct OnnxAttr
{
    private const int FloatKind = 1;     // AttributeProto.AttributeType.FLOAT
    private const int IntKind = 2;       // INT
    private const int IntsKind = 7;      // INTS

    private readonly string name;
    private readonly int kind;
    private readonly long integer;
    private readonly float number;
    private readonly long[]? integers;

    private OnnxAttr(string name, int kind, long integer = 0, float number = 0, long[]? integers = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        (this.name, this.kind, this.integer, this.number, this.integers) = (name, kind, integer, number, integers);
    }

    /// <summary>A whole-number attribute, e.g. Softmax's <c>axis</c>.</summary>
    public static OnnxAttr Int(string name, long value) => new(name, IntKind, integer: value);

    /// <summary>A number attribute, e.g. BatchNormalization's <c>epsilon</c>.</summary>
    public static OnnxAttr Float(string name, float value) => new(name, FloatKind, number: value);

    /// <summary>A list of whole numbers, e.g. Conv's <c>kernel_shape</c> or <c>pads</c>.</summary>
    public static OnnxAttr Ints(string name, params long[] values) => new(name, IntsKind, integers: [.. values]);

    // AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20.
    internal void Write(ProtobufWriter a)
    {
        a.String(1, name);
        switch (kind)
        {
            case FloatKind:
                a.Float(2, number);
                break;
            case IntKind:
                a.Int(3, integer);
                break;
            default:
                foreach (var v in integers ?? [])
                {
                    a.Int(8, v);
                }
                break;
        }
        a.Int(20, kind);
    }
}
