using Backprop.Serialization;

namespace Backprop.Tests.Serialization;

/// <summary>The protobuf wire format, byte for byte, against the encoding guide's own examples.</summary>
public sealed class ProtobufWriterTests
{
    [Theory]
    [InlineData(0L, new byte[] { 0x08, 0x00 })]
    [InlineData(1L, new byte[] { 0x08, 0x01 })]
    [InlineData(150L, new byte[] { 0x08, 0x96, 0x01 })]                    // the guide's example: field 1 = 150
    [InlineData(300L, new byte[] { 0x08, 0xAC, 0x02 })]
    [InlineData(-1L, new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]   // int64 −1: ten bytes
    public void Integers_are_varints_after_the_key(long value, byte[] expected)
        => Assert.Equal(expected, new ProtobufWriter().Int(1, value).ToArray());

    [Fact]
    public void Strings_are_length_prefixed_utf8()
        => Assert.Equal([0x12, 0x07, .. "testing"u8.ToArray()], new ProtobufWriter().String(2, "testing").ToArray());

    [Fact]
    public void Field_numbers_above_15_take_a_two_byte_key()
        => Assert.Equal([0xA0, 0x01, 0x02], new ProtobufWriter().Int(20, 2).ToArray());   // AttributeProto.type = INT

    [Fact]
    public void Floats_are_fixed_32_bit_little_endian()
        => Assert.Equal([0x15, 0x00, 0x00, 0x80, 0x3F], new ProtobufWriter().Float(2, 1f).ToArray());

    [Fact]
    public void Nested_messages_are_length_prefixed()
        => Assert.Equal([0x1A, 0x03, 0x08, 0x96, 0x01], new ProtobufWriter().Message(3, m => m.Int(1, 150)).ToArray());
}
