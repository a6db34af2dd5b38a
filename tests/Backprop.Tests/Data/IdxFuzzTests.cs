using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Data;
using Backprop.Tests.TestUtil;
using Xunit.Abstractions;

namespace Backprop.Tests.Data;

/// <summary>
/// 10,000 seeded mutations of valid IDX files, plain and gzip, read alone or as an images and labels
/// pair: each is read or refused with one line naming the file — never another exception, and never
/// an allocation the size the header merely claims.
/// </summary>
public sealed class IdxFuzzTests(ITestOutputHelper output)
{
    private const string ImagesPath = "fuzz/train-images-idx3-ubyte";
    private const string LabelsPath = "fuzz/train-labels-idx1-ubyte";

    // The 32-bit dimension sizes of a file of up to 3 dimensions.
    private static readonly int[] SizeFields = [4, 8, 12];

    internal static byte[] Idx(byte type, int[] dims, byte[] payload)
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

    internal static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            zip.Write(bytes);
        }
        return buffer.ToArray();
    }

    private static readonly byte[] Images = Idx(0x08, [4, 2, 3], [.. Enumerable.Range(0, 24).Select(i => (byte)(i * 10))]);
    private static readonly byte[] Labels = Idx(0x08, [4], [2, 0, 1, 2]);

    private static readonly byte[][] Valid =
    [
        Images,
        Labels,
        Gzip(Images),
        Gzip(Labels),
        Idx(0x0C, [2, 2], new byte[16]),
        Idx(0x0D, [3], new byte[12]),
        Idx(0x0E, [1, 1], new byte[8]),
        Idx(0x0B, [2], [0x80, 0, 0x7F, 0xFF]),
        Idx(0x09, [1, 2, 2], [1, 0xFF, 3, 0x80]),
    ];

    [Fact]
    public void Ten_thousand_mutated_idx_files_are_read_or_refused_with_one_line()
    {
        var mutator = new Mutator(seed: 8);
        var pair = false;
        var mutateImages = false;

        var outcome = Fuzz.Run(10_000, i =>
        {
            // Every third input is an images and labels pair, one of them mutated.
            pair = i % 3 == 0;
            mutateImages = mutator.Rng.NextInt(2) == 0;
            var original = pair ? (mutateImages ? Images : Labels) : Valid[mutator.Rng.NextInt(Valid.Length)];
            if (mutator.Rng.NextInt(8) == 0)
            {
                // Mutate the decompressed data, then compress it: the reader sees a valid gzip of bad IDX.
                return Gzip(mutator.Bytes(original, SizeFields, bigEndian: true));
            }
            return mutator.Bytes(original, SizeFields, bigEndian: true);
        }, bytes =>
        {
            if (!pair)
            {
                IdxFile.Parse(bytes, ImagesPath);
                return;
            }
            var images = mutateImages ? IdxFile.Parse(bytes, ImagesPath) : IdxFile.Parse(Images, ImagesPath);
            var labels = mutateImages ? IdxFile.Parse(Labels, LabelsPath) : IdxFile.Parse(bytes, LabelsPath);
            IdxDataset.FromFiles("fuzz", images, ImagesPath, labels, LabelsPath, ["a", "b", "c"]);
        }, ImagesPath, LabelsPath);

        output.WriteLine($"{outcome.Inputs} inputs in {outcome.Elapsed.TotalSeconds:F2} s: {outcome.Read} read, {outcome.Refused} refused");
        Assert.True(outcome.Read > 200 && outcome.Refused > 500, $"{outcome.Read} read, {outcome.Refused} refused");
    }
}
