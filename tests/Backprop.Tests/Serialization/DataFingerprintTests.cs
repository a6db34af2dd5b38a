using Backprop.Data;
using Backprop.Serialization;

namespace Backprop.Tests.Serialization;

public sealed class DataFingerprintTests
{
    [Fact]
    public void The_fingerprint_is_the_documented_sha256_of_counts_and_numbers()
    {
        // Counts 3, 1, 1 as int32 then 0, 0.5, 1 and 0, 1, 0 as float64, all little-endian (docs/model-format.md).
        var bytes = new List<byte>();
        foreach (var n in (int[])[3, 1, 1])
        {
            bytes.AddRange(BitConverter.GetBytes(n));
        }
        foreach (var v in (double[])[0, 0.5, 1, 0, 1, 0])
        {
            bytes.AddRange(BitConverter.GetBytes(v));
        }
        Assert.True(BitConverter.IsLittleEndian);

        var expected = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. bytes]));

        Assert.Equal(expected, DataFingerprint.Of(Datasets.Dosage));
    }

    [Fact]
    public void Any_changed_number_changes_the_fingerprint_and_names_do_not()
    {
        var same = new Dataset("other", [0.0, 0.5, 1.0], [0.0, 1.0, 0.0], ["d"], ["e"]);
        var changed = new Dataset("dosage", [0.0, 0.5, 1.0], [0.0, 1.0, 1e-300], ["Dosage"], ["Efficacy"]);

        Assert.Equal(DataFingerprint.Of(Datasets.Dosage), DataFingerprint.Of(same));
        Assert.NotEqual(DataFingerprint.Of(Datasets.Dosage), DataFingerprint.Of(changed));
    }

    [Fact]
    public void Image_data_is_fingerprinted_as_its_doubles_without_a_double_copy()
    {
        const int Rows = 2000, Columns = 784;
        var rng = new Rng(3);
        var pixels = new byte[Rows * Columns];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)rng.NextInt(256);
        }
        var labels = new double[Rows];
        var names = Enumerable.Range(0, Columns).Select(c => $"p{c}").ToArray();
        var images = new Dataset("images", new ByteFeatures(pixels, Columns, 1.0 / 255), labels, names, ["label"], ["a", "b"]);
        var doubles = Dataset.ForClassification("doubles", [.. pixels.Select(p => p * (1.0 / 255))], new int[Rows], names, "label", ["a", "b"]);
        DataFingerprint.Of(doubles);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var fingerprint = DataFingerprint.Of(images);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(DataFingerprint.Of(doubles), fingerprint);
        Assert.True(allocated < Rows * Columns, $"{allocated} bytes allocated for {Rows * Columns} pixels (a double copy is {8 * Rows * Columns})");
    }
}
