using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Data;

namespace Backprop.Tests.Data;

public sealed class IdxFileTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "backprop-idx-tests-" + Guid.NewGuid().ToString("N"));

    public IdxFileTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // An IDX file: 0, 0, type, rank, big-endian sizes, then the payload.
    private static byte[] Idx(byte type, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + (4 * dims.Length) + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (var d = 0; d < dims.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * d)), dims[d]);
        }
        payload.CopyTo(bytes, 4 + (4 * dims.Length));
        return bytes;
    }

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        var path = Path.Combine(folder, name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    private static readonly byte[] Pixels = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unsigned_bytes_are_read_plain_or_gzipped(bool gzip)
    {
        var path = Write("images", Idx(0x08, [2, 2, 3], Pixels), gzip);

        var idx = IdxFile.Load(path);

        Assert.Equal(IdxType.UnsignedByte, idx.Type);
        Assert.Equal([2, 2, 3], idx.Dimensions);
        Assert.Equal(12, idx.Length);
        Assert.Equal(Pixels, idx.Bytes.ToArray());
        Assert.Equal(Pixels.Select(p => (double)p), idx.ToDoubleArray());
    }

    [Fact]
    public void Wider_types_are_big_endian()
    {
        var ints = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(ints, -70000);
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(4), 3);
        var floats = new byte[4];
        BinaryPrimitives.WriteSingleBigEndian(floats, 1.5f);
        var doubles = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(doubles, -0.25);
        var shorts = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(shorts, -300);

        Assert.Equal([-70000.0, 3], IdxFile.Load(Write("i", Idx(0x0C, [2], ints))).ToDoubleArray());
        Assert.Equal([1.5], IdxFile.Load(Write("f", Idx(0x0D, [1], floats))).ToDoubleArray());
        Assert.Equal([-0.25], IdxFile.Load(Write("d", Idx(0x0E, [1], doubles))).ToDoubleArray());
        Assert.Equal([-300.0], IdxFile.Load(Write("s", Idx(0x0B, [1], shorts))).ToDoubleArray());
        Assert.Equal([-1.0, 127], IdxFile.Load(Write("b", Idx(0x09, [2], [0xFF, 0x7F]))).ToDoubleArray());
        Assert.Throws<InvalidOperationException>(() => IdxFile.Load(Write("i2", Idx(0x0C, [2], ints))).Bytes.Length);
    }

    [Fact]
    public void A_wrong_magic_number_is_named_with_its_offset()
    {
        var path = Write("bad", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]);

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.Equal($"{path}: not an IDX file: the magic number at byte 0 is 0x504B0304; IDX files start with two zero bytes, a type code and the number of dimensions.", e.Message);
    }

    [Fact]
    public void An_unknown_type_code_is_named()
    {
        var path = Write("type", Idx(0x07, [1], [1]));

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.Equal($"{path}: byte 2 holds an unknown IDX type code 0x07 (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E).", e.Message);
    }

    [Fact]
    public void A_file_truncated_in_the_data_names_the_offset()
    {
        var bytes = Idx(0x08, [2, 2, 3], Pixels)[..^5];
        var path = Write("short", bytes);

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        // 16 header bytes, then 7 of the 12 data bytes.
        Assert.Equal($"{path}: truncated at byte 23: expected 12 bytes of 2×2×3 values of type UnsignedByte from byte 16.", e.Message);
    }

    [Fact]
    public void A_gzipped_file_truncated_in_the_data_names_the_decompressed_offset()
    {
        var path = Write("short.gz", Idx(0x08, [4], [1, 2]), gzip: true);

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.Equal($"{path} (gzip, decompressed): truncated at byte 10: expected 4 bytes of 4 values of type UnsignedByte from byte 8.", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { }, "truncated at byte 0: expected 4 bytes of the magic number from byte 0.")]
    [InlineData(new byte[] { 0, 0, 8 }, "truncated at byte 3: expected 4 bytes of the magic number from byte 0.")]
    [InlineData(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0 }, "truncated at byte 9: expected 12 bytes of the 3 dimension sizes from byte 4.")]
    [InlineData(new byte[] { 0, 0, 8, 0 }, "byte 3 says the array has 0 dimensions; it needs at least 1.")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF }, "byte 4: dimension 1 has a negative size (-1).")]
    public void A_bad_header_is_named(byte[] bytes, string message)
    {
        var path = Write("header", bytes);

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.Equal($"{path}: {message}", e.Message);
    }

    [Fact]
    public void Bytes_after_the_data_are_an_error()
    {
        var path = Write("long", [.. Idx(0x08, [2], [1, 2]), 99]);

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.Equal($"{path}: byte 10: unexpected data after the 2 values the header describes.", e.Message);
    }

    [Fact]
    public void A_whole_gzip_file_is_read_into_one_array_of_its_size()
    {
        // Random bytes barely compress, so the file is about as large as the data it holds.
        var pixels = new byte[3 << 20];
        new Random(8).NextBytes(pixels);
        var path = Write("big.gz", Idx(0x08, [3, 1 << 20], pixels), gzip: true);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var idx = IdxFile.Load(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(idx.Bytes.SequenceEqual(pixels));
        // One array of 3 MiB, not a chain of doublings (1 + 2 + 3 MiB).
        Assert.True(allocated < (3 << 20) + (512 << 10), $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_broken_gzip_file_is_named()
    {
        var path = Write("broken.gz", [0x1F, 0x8B, 0x08, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x03, 0xFF, 0xFF, 0xFF]);

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.StartsWith($"{path}: not a valid gzip file", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(folder, "nowhere", "train-images-idx3-ubyte");

        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));

        Assert.StartsWith($"{path}: cannot read the file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_and_labels_make_a_classification_dataset()
    {
        var images = Write("img", Idx(0x08, [3, 2, 2], Pixels), gzip: true);
        var labels = Write("lab", Idx(0x08, [3], [2, 0, 1]));

        var data = IdxDataset.Load("tiny", images, labels, ["a", "b", "c"]);

        Assert.Equal(3, data.Count);
        Assert.Equal(["pixel1", "pixel2", "pixel3", "pixel4"], data.InputNames);
        Assert.Equal(["a", "b", "c"], data.ClassNames);
        Assert.Equal([2.0, 0, 1], data.Targets.ToArray());
        Assert.Equal(255 / 255.0, data.Input(2, 3));
        Assert.Equal(1 / 255.0, data.Input(0, 1));
        Assert.Equal(1f / 255, data.InputTensor<float>()[1]);
    }

    [Fact]
    public void Images_and_labels_must_agree()
    {
        var images = Write("img", Idx(0x08, [3, 2, 2], Pixels));
        var twoLabels = Write("lab2", Idx(0x08, [2], [0, 1]));
        var badLabel = Write("lab3", Idx(0x08, [3], [0, 1, 7]));

        Assert.Equal($"{twoLabels}: has 2 labels but {images} has 3 images.",
            Assert.Throws<BackpropException>(() => IdxDataset.Load("t", images, twoLabels, ["a", "b", "c"])).Message);
        Assert.Equal($"{badLabel}: byte 10: label 7 is not a class (0 to 2).",
            Assert.Throws<BackpropException>(() => IdxDataset.Load("t", images, badLabel, ["a", "b", "c"])).Message);
        Assert.StartsWith($"{twoLabels}: expected images",
            Assert.Throws<BackpropException>(() => IdxDataset.Load("t", twoLabels, images, ["a", "b", "c"])).Message, StringComparison.Ordinal);
    }
}
