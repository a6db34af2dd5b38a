using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Backprop.Serialization;

/// <summary>
/// The layout model files and checkpoints share (docs/model-format.md): eight magic bytes, the format
/// version and the header length (32-bit little-endian), a UTF-8 JSON header, the arrays as
/// little-endian IEEE 754 numbers, and a SHA-256 of everything before it.
/// </summary>
/// <remarks>
/// Reading allocates the file's real size, never a size read from inside it, and only once the magic
/// bytes are right; <see cref="Open(byte[], string, int, FrameWords)"/> checks the length, version, header length, checksum and UTF-8
/// before anything is interpreted. The messages name the file and say which check failed.
/// </remarks>
internal static class FileFrame
{
    public const int PreambleLength = 16;
    public const int ChecksumLength = 32;
    private const int MaxHeaderLength = 64 << 20;

    /// <summary>
    /// The file's bytes when it starts with <paramref name="magic"/>; otherwise only its first bytes
    /// (so /dev/zero, which has no end and no length, is "not a … file" rather than out of memory).
    /// </summary>
    public static byte[] ReadFile(string path, ReadOnlySpan<byte> magic)
    {
        using var file = File.OpenRead(path);
        var head = new byte[magic.Length];
        var got = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got < head.Length || !head.AsSpan().SequenceEqual(magic))
        {
            return head[..got];
        }
        if (file.CanSeek && file.Length >= head.Length)
        {
            var bytes = new byte[file.Length];
            head.CopyTo(bytes, 0);
            file.ReadExactly(bytes, head.Length, bytes.Length - head.Length);
            return bytes;
        }
        using var memory = new MemoryStream();
        memory.Write(head);
        file.CopyTo(memory);
        return memory.ToArray();
    }

    /// <summary>
    /// Checks everything after the magic bytes (which the caller has checked) and returns the header and
    /// the payload. <paramref name="words"/> says what the file is in the messages.
    /// </summary>
    /// <exception cref="BackpropException">The file is truncated, of another version, or corrupt.</exception>
    public static (ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Payload) Open(byte[] bytes, string source, int formatVersion, FrameWords words)
    {
        var (header, payload, _) = Open(bytes, source, formatVersion, formatVersion, words);
        return (header, payload);
    }

    /// <summary>As <see cref="Open(byte[], string, int, FrameWords)"/>, for a reader of versions <paramref name="oldest"/> to <paramref name="newest"/>; also returns the file's version.</summary>
    public static (ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Payload, int Version) Open(byte[] bytes, string source, int oldest, int newest, FrameWords words)
    {
        if (bytes.Length < PreambleLength + ChecksumLength)
        {
            throw new BackpropException($"{source}: the {words.File} is truncated: {bytes.Length} bytes, shorter than the {PreambleLength + ChecksumLength} bytes of {words.Empty}.");
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version < oldest || version > newest)
        {
            var reads = oldest == newest ? $"version {newest}" : $"versions {oldest} to {newest}";
            throw new BackpropException(version > newest
                ? $"{source}: {words.Format} format version {version} is newer than this Backprop reads ({reads}); upgrade Backprop."
                : $"{source}: {words.Format} format version {version} is not one Backprop knows (it reads {reads}).");
        }
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        if (headerLength == 0 || headerLength > bytes.Length - PreambleLength - ChecksumLength || headerLength > MaxHeaderLength)
        {
            throw new BackpropException($"{source}: the header length {headerLength} does not fit in {words.Container} ({bytes.Length} bytes): the file is truncated or corrupt.");
        }
        var body = bytes.AsMemory(0, bytes.Length - ChecksumLength);
        Span<byte> hash = stackalloc byte[ChecksumLength];
        SHA256.HashData(body.Span, hash);
        if (!hash.SequenceEqual(bytes.AsSpan(bytes.Length - ChecksumLength)))
        {
            throw new BackpropException($"{source}: checksum mismatch: the {words.File} is corrupt or was changed after it was written.");
        }
        var header = body.Slice(PreambleLength, (int)headerLength);
        if (FirstInvalidUtf8(header.Span) is var invalid and >= 0)
        {
            throw new BackpropException($"{source}: the {words.Format} header is not valid UTF-8 at byte {PreambleLength + invalid}.");
        }
        return (header, body[(PreambleLength + (int)headerLength)..], (int)version);
    }

    /// <summary>Puts a header and a payload together with the preamble and the checksum.</summary>
    public static byte[] Assemble(ReadOnlySpan<byte> magic, int version, byte[] header, byte[] payload)
    {
        var bytes = new byte[PreambleLength + header.Length + payload.Length + ChecksumLength];
        magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)header.Length);
        header.CopyTo(bytes, PreambleLength);
        payload.CopyTo(bytes, PreambleLength + header.Length);
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumLength), bytes.AsSpan(bytes.Length - ChecksumLength));
        return bytes;
    }

    /// <summary>The header of a saved file, as JSON text (for inspection and tests).</summary>
    public static string HeaderText(ReadOnlySpan<byte> bytes)
        => Encoding.UTF8.GetString(bytes.Slice(PreambleLength, (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..])));

    /// <summary>Writes <paramref name="values"/> as little-endian IEEE 754 numbers.</summary>
    public static void WriteValues<T>(Stream stream, ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (BitConverter.IsLittleEndian)
        {
            // float and double in memory are already the file's little-endian IEEE 754 bytes.
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> buffer = stackalloc byte[8];
        foreach (var v in values)
        {
            if (typeof(T) == typeof(float))
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer, float.CreateTruncating(v));
                stream.Write(buffer[..4]);
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(buffer, double.CreateTruncating(v));
                stream.Write(buffer);
            }
        }
    }

    /// <summary>The index of the first number that is NaN or infinite, or −1: the readers' rule that saved numbers are finite.</summary>
    public static int FirstNonFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
    }

    // NOTE: JsonDocument checks UTF-8 only when a string is read, and then throws InvalidOperationException.
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
    {
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf8(text[i..], out _, out var length) != System.Buffers.OperationStatus.Done)
            {
                return i;
            }
            i += length;
        }
        return -1;
    }
}

/// <summary>How the messages of <see cref="FileFrame.Open(byte[], string, int, FrameWords)"/> name a kind of file.</summary>
/// <param name="File">"model file", "checkpoint".</param>
/// <param name="Format">"model", "checkpoint" (as in "model format version 2", "the model header").</param>
/// <param name="Empty">"an empty model", "an empty one".</param>
/// <param name="Container">"the file", "the checkpoint" (as in "does not fit in the file").</param>
internal sealed record FrameWords(string File, string Format, string Empty, string Container);
