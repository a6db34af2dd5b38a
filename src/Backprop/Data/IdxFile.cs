using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Data;

/// <summary>The element types an IDX file can hold (the third byte of its magic number).</summary>
public enum IdxType : byte
{
    /// <summary>Unsigned bytes (MNIST's pixels and labels).</summary>
    UnsignedByte = 0x08,

    /// <summary>Signed bytes.</summary>
    SignedByte = 0x09,

    /// <summary>Big-endian 16-bit integers.</summary>
    Int16 = 0x0B,

    /// <summary>Big-endian 32-bit integers.</summary>
    Int32 = 0x0C,

    /// <summary>Big-endian 32-bit floats.</summary>
    Float = 0x0D,

    /// <summary>Big-endian 64-bit floats.</summary>
    Double = 0x0E,
}

/// <summary>
/// An array read from an IDX file, the format of MNIST and Fashion-MNIST: plain or gzip-compressed.
/// </summary>
/// <remarks>
/// Layout: two zero bytes, a type code (<see cref="IdxType"/>), the number of dimensions d; then d
/// big-endian 32-bit sizes; then the values, big-endian, last dimension fastest. Unsigned bytes are kept
/// as bytes (<see cref="Bytes"/>); other types are converted to double (<see cref="ToDoubleArray"/>).
/// Every problem is one line naming the file and the byte offset (in the decompressed data for gzip).
/// </remarks>
public sealed class IdxFile
{
    private const int ChunkSize = 1 << 20;

    // Deflate expands at most about 1032:1, so a gzip file of n bytes holds at most this many times n:
    // a first allocation that fits real files exactly but not the sizes a small file merely claims.
    // Capped, so that a larger file claiming more than it holds still cannot ask for gigabytes at once
    // (Fashion-MNIST's largest array, 47 MB, fits in one).
    private const long MaxDeflateRatio = 1032;
    private const long MaxFirstChunk = 64 << 20;

    private readonly byte[] raw;

    private IdxFile(IdxType type, int[] dimensions, byte[] raw)
    {
        Type = type;
        Dimensions = dimensions;
        this.raw = raw;
    }

    /// <summary>The element type.</summary>
    public IdxType Type { get; }

    /// <summary>The sizes of the dimensions, outermost first (e.g. 60000, 28, 28).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The number of values.</summary>
    public int Length => raw.Length / ElementSize(Type);

    /// <summary>The values of an <see cref="IdxType.UnsignedByte"/> file, without a copy.</summary>
    /// <exception cref="InvalidOperationException">The file holds another type.</exception>
    public ReadOnlySpan<byte> Bytes => Type == IdxType.UnsignedByte
        ? raw
        : throw new InvalidOperationException($"This IDX array holds {Type}, not unsigned bytes.");

    /// <summary>The raw unsigned bytes, shared (internal: datasets keep them without a copy).</summary>
    internal byte[] ByteArray => Type == IdxType.UnsignedByte ? raw : throw new InvalidOperationException($"This IDX array holds {Type}, not unsigned bytes.");

    /// <summary>Every value converted to double.</summary>
    public double[] ToDoubleArray()
    {
        var values = new double[Length];
        ReadOnlySpan<byte> r = raw;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Type switch
            {
                IdxType.UnsignedByte => r[i],
                IdxType.SignedByte => (sbyte)r[i],
                IdxType.Int16 => BinaryPrimitives.ReadInt16BigEndian(r[(2 * i)..]),
                IdxType.Int32 => BinaryPrimitives.ReadInt32BigEndian(r[(4 * i)..]),
                IdxType.Float => BinaryPrimitives.ReadSingleBigEndian(r[(4 * i)..]),
                _ => BinaryPrimitives.ReadDoubleBigEndian(r[(8 * i)..]),
            };
        }
        return values;
    }

    /// <summary>Reads <paramref name="path"/>; a file starting with the gzip signature is decompressed.</summary>
    /// <exception cref="BackpropException">The file is missing, unreadable, truncated or not IDX.</exception>
    public static IdxFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var file = File.OpenRead(path);
            return ReadFile(file, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw FileErrors.CannotRead(path, "file", e);
        }
    }

    /// <summary>
    /// Reads a whole file's bytes as <see cref="Load"/> reads the file (plain or gzip);
    /// <paramref name="path"/> names it in messages.
    /// </summary>
    internal static IdxFile Parse(byte[] bytes, string path)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return ReadFile(stream, path);
    }

    // A seekable stream at its start: gzip when it starts with 1F 8B, else plain IDX.
    private static IdxFile ReadFile(Stream file, string path)
    {
        Span<byte> first = stackalloc byte[2];
        var got = file.ReadAtLeast(first, 2, throwOnEndOfStream: false);
        file.Position = 0;
        if (got < 2 || first[0] != 0x1F || first[1] != 0x8B)
        {
            return Read(file, path);
        }
        try
        {
            using var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            return Read(gzip, path + " (gzip, decompressed)", Math.Min(MaxDeflateRatio * file.Length, MaxFirstChunk));
        }
        catch (InvalidDataException e)
        {
            throw new BackpropException($"{path}: not a valid gzip file: {OneLine(e.Message)}", e);
        }
    }

    /// <summary>Reads an IDX array from <paramref name="stream"/>; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="BackpropException">The data is truncated, has trailing bytes, or is not IDX.</exception>
    public static IdxFile Read(Stream stream, string source) => Read(stream, source, ChunkSize);

    // firstChunk: how much to allocate at first when the stream cannot be measured (it then grows with the data).
    private static IdxFile Read(Stream stream, string source, long firstChunk)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[4];
        ReadExactly(stream, header, 0, source, "the magic number");
        if (header[0] != 0 || header[1] != 0)
        {
            throw new BackpropException($"{source}: not an IDX file: the magic number at byte 0 is 0x{BinaryPrimitives.ReadUInt32BigEndian(header):X8}; IDX files start with two zero bytes, a type code and the number of dimensions.");
        }
        var type = (IdxType)header[2];
        if (!Enum.IsDefined(type))
        {
            throw new BackpropException($"{source}: byte 2 holds an unknown IDX type code 0x{header[2]:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E).");
        }
        int rank = header[3];
        if (rank == 0)
        {
            throw new BackpropException($"{source}: byte 3 says the array has 0 dimensions; it needs at least 1.");
        }
        var sizes = new byte[4 * rank];
        ReadExactly(stream, sizes, 4, source, $"the {rank} dimension sizes");
        var dimensions = new int[rank];
        long count = 1;
        for (var d = 0; d < rank; d++)
        {
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(sizes.AsSpan(4 * d));
            if (dimensions[d] < 0)
            {
                throw new BackpropException($"{source}: byte {4 + (4 * d)}: dimension {d + 1} has a negative size ({dimensions[d]}).");
            }
            count *= dimensions[d];
            if (count * ElementSize(type) > Array.MaxLength)
            {
                throw new BackpropException($"{source}: the dimensions {string.Join("×", dimensions[..(d + 1)])} describe more data than fits in memory.");
            }
        }
        var start = 4 + (4 * rank);
        var raw = ReadValues(stream, count * ElementSize(type), start, source, $"{string.Join("×", dimensions)} values of type {type}", firstChunk);
        if (stream.ReadByte() >= 0)
        {
            throw new BackpropException($"{source}: byte {start + raw.Length}: unexpected data after the {string.Join("×", dimensions)} values the header describes.");
        }
        return new IdxFile(type, dimensions, raw);
    }

    // NOTE: the header's sizes are only a claim. A seekable stream is measured before anything is
    // allocated; any other (gzip) is read in growing chunks, so memory follows the data really there.
    private static byte[] ReadValues(Stream stream, long size, long offset, string source, string what, long firstChunk)
    {
        if (stream.CanSeek && stream.Length - stream.Position < size)
        {
            var left = Math.Max(0, stream.Length - stream.Position);
            throw new BackpropException($"{source}: truncated at byte {offset + left}: expected {size} bytes of {what} from byte {offset}.");
        }
        var buffer = new byte[stream.CanSeek ? size : Math.Min(size, Math.Max(firstChunk, 1))];
        var filled = 0;
        while (filled < size)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(size, 2L * buffer.Length));
            }
            var got = stream.Read(buffer, filled, buffer.Length - filled);
            if (got == 0)
            {
                throw new BackpropException($"{source}: truncated at byte {offset + filled}: expected {size} bytes of {what} from byte {offset}.");
            }
            filled += got;
        }
        return buffer;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static void ReadExactly(Stream stream, byte[] buffer, long offset, string source, string what)
    {
        var got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
        {
            throw new BackpropException($"{source}: truncated at byte {offset + got}: expected {buffer.Length} bytes of {what} from byte {offset}.");
        }
    }

    private static int ElementSize(IdxType type) => type switch
    {
        IdxType.UnsignedByte or IdxType.SignedByte => 1,
        IdxType.Int16 => 2,
        IdxType.Int32 or IdxType.Float => 4,
        _ => 8,
    };
}
