using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Backprop.Serialization;

/// <summary>
/// Writes Protocol Buffers messages (the encoding ONNX files use), field by field: just the wire
/// types ONNX needs. Fields are written in the order they are given.
/// </summary>
/// <remarks>
/// Each field starts with a key, the varint <c>(field number &lt;&lt; 3) | wire type</c>. Wire type 0
/// is a varint (integers; negative int64 take ten bytes, two's complement), 2 is length-delimited
/// (strings, bytes, nested messages and packed repeated numbers: a varint length, then the bytes),
/// 5 is a fixed 32-bit little-endian value (float).
/// </remarks>
internal sealed class ProtobufWriter
{
    private const int Varint = 0;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    private readonly ArrayBufferWriter<byte> buffer = new();

    /// <summary>The message written so far.</summary>
    public byte[] ToArray() => buffer.WrittenSpan.ToArray();

    /// <summary>An int64, int32 or enum field.</summary>
    public ProtobufWriter Int(int field, long value)
    {
        Key(field, Varint);
        WriteVarint((ulong)value);
        return this;
    }

    /// <summary>A float field.</summary>
    public ProtobufWriter Float(int field, float value)
    {
        Key(field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        buffer.Write(bytes);
        return this;
    }

    /// <summary>A string field (UTF-8).</summary>
    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public ProtobufWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        buffer.Write(value);
        return this;
    }

    /// <summary>A nested message field, written by <paramref name="write"/>.</summary>
    public ProtobufWriter Message(int field, Action<ProtobufWriter> write)
    {
        var inner = new ProtobufWriter();
        write(inner);
        return Bytes(field, inner.buffer.WrittenSpan);
    }

    private void Key(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        // Seven bits per byte, least significant first; the high bit says another byte follows.
        while (value >= 0x80)
        {
            buffer.Write([(byte)(value | 0x80)]);
            value >>= 7;
        }
        buffer.Write([(byte)value]);
    }
}
