using Backprop.Data;
using static Backprop.Tests.Data.IdxFuzzTests;

namespace Backprop.Tests.Data;

/// <summary>
/// A corpus of malformed IDX files and of images and labels that do not match, each read from real
/// files: the message is one line naming the file and the byte offset, and a size the header merely
/// claims is never allocated. The command-line tests (Cli/MalformedFileTests) run some through <c>backprop</c>.
/// </summary>
public sealed class IdxCorpusTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "i8a-idx-corpus-" + Guid.NewGuid().ToString("N"));

    public IdxCorpusTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Malformed files: the bytes and the message after "PATH".</summary>
    internal static readonly Dictionary<string, (byte[] Bytes, string Message)> Corpus = new()
    {
        ["empty"] = ([], ": truncated at byte 0: expected 4 bytes of the magic number from byte 0."),
        ["png"] = ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], ": not an IDX file: the magic number at byte 0 is 0x89504E47; IDX files start with two zero bytes, a type code and the number of dimensions."),
        ["unknown-type"] = (Idx(0x07, [1], [1]), ": byte 2 holds an unknown IDX type code 0x07 (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)."),
        ["no-dimensions"] = ([0, 0, 8, 0], ": byte 3 says the array has 0 dimensions; it needs at least 1."),
        ["truncated-sizes"] = ([0, 0, 8, 3, 0, 0, 0, 2, 0], ": truncated at byte 9: expected 12 bytes of the 3 dimension sizes from byte 4."),
        ["negative-size"] = ([0, 0, 8, 2, 0, 0, 0, 1, 0x80, 0, 0, 0], ": byte 8: dimension 2 has a negative size (-2147483648)."),
        ["beyond-memory"] = (Idx(0x08, [65536, 65536], []), ": the dimensions 65536×65536 describe more data than fits in memory."),
        ["claims-a-gigabyte"] = (Idx(0x08, [1 << 30], [1, 2]), ": truncated at byte 10: expected 1073741824 bytes of 1073741824 values of type UnsignedByte from byte 8."),
        ["truncated-data"] = (Idx(0x0D, [2, 2], new byte[13]), ": truncated at byte 25: expected 16 bytes of 2×2 values of type Float from byte 12."),
        ["trailing-bytes"] = ([.. Idx(0x08, [2], [1, 2]), 0, 0], ": byte 10: unexpected data after the 2 values the header describes."),
    };

    public static TheoryData<string> Names => [.. Corpus.Keys];

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_malformed_file_gives_one_line_naming_the_file_and_the_offset(string name)
    {
        var path = Write(name, Corpus[name].Bytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(path + Corpus[name].Message, e.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_gzip_file_claiming_a_gigabyte_allocates_what_it_holds_not_what_it_claims()
    {
        var path = Write("claims.gz", Gzip(Idx(0x08, [1 << 30], new byte[1000])));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal($"{path} (gzip, decompressed): truncated at byte 1008: expected 1073741824 bytes of 1073741824 values of type UnsignedByte from byte 8.", e.Message);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_larger_gzip_file_claiming_a_gigabyte_allocates_at_most_64_MiB_at_once()
    {
        // Random bytes barely compress: this 2 MiB file could hold 2 GiB, so only the cap stops a 1 GiB allocation.
        var pixels = new byte[2 << 20];
        new Random(8).NextBytes(pixels);
        var path = Write("claims.gz", Gzip(Idx(0x08, [1 << 30], pixels)));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BackpropException>(() => IdxFile.Load(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal($"{path} (gzip, decompressed): truncated at byte {8 + pixels.Length}: expected 1073741824 bytes of 1073741824 values of type UnsignedByte from byte 8.", e.Message);
        Assert.True(allocated < (64 << 20) + (1 << 20), $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_folder_is_named_as_one()
        => Assert.Equal($"{folder}: cannot read the file: it is a folder, not a file.", Assert.Throws<BackpropException>(() => IdxFile.Load(folder)).Message);

    /// <summary>Images and labels that are each valid IDX but do not make a dataset together: the message after the file's path.</summary>
    internal static readonly Dictionary<string, (byte[] Images, byte[] Labels, bool NameLabels, string Message)> Pairs = new()
    {
        ["count-mismatch"] = (Idx(0x08, [3, 2, 2], new byte[12]), Idx(0x08, [2], [0, 1]), true, ": has 2 labels but {images} has 3 images."),
        ["label-not-a-class"] = (Idx(0x08, [3, 2, 2], new byte[12]), Idx(0x08, [3], [0, 1, 7]), true, ": byte 10: label 7 is not a class (0 to 2)."),
        ["images-of-one-dimension"] = (Idx(0x08, [4], new byte[4]), Idx(0x08, [4], new byte[4]), false, ": expected images of unsigned bytes with at least 2 dimensions (count, pixels…); found UnsignedByte [4]."),
        ["labels-of-int32"] = (Idx(0x08, [1, 1], [0]), Idx(0x0C, [1], new byte[4]), true, ": expected labels of unsigned bytes with 1 dimension; found Int32 [1]."),
        ["labels-of-two-dimensions"] = (Idx(0x08, [1, 1], [0]), Idx(0x08, [1, 1], [0]), true, ": expected labels of unsigned bytes with 1 dimension; found UnsignedByte [1×1]."),
        ["no-images"] = (Idx(0x08, [0, 2, 2], []), Idx(0x08, [0], []), false, ": holds no images."),
        ["no-pixels"] = (Idx(0x08, [2, 0], []), Idx(0x08, [2], [0, 1]), false, ": the images [2×0] have no pixels."),
    };

    public static TheoryData<string> PairNames => [.. Pairs.Keys];

    [Theory]
    [MemberData(nameof(PairNames))]
    public void Images_and_labels_that_do_not_match_are_named(string name)
    {
        var (imageBytes, labelBytes, nameLabels, message) = Pairs[name];
        var images = Write(name + "-images-idx3-ubyte", imageBytes);
        var labels = Write(name + "-labels-idx1-ubyte", labelBytes);

        var e = Assert.Throws<BackpropException>(() => IdxDataset.Load("pair", images, labels, ["a", "b", "c"]));

        Assert.Equal((nameLabels ? labels : images) + message.Replace("{images}", images, StringComparison.Ordinal), e.Message);
    }
}
