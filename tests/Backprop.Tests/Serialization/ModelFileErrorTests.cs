using System.Buffers.Binary;
using System.Text;
using Backprop.Serialization;
using static Backprop.Tests.Serialization.ModelTestData;

namespace Backprop.Tests.Serialization;

/// <summary>
/// Every broken model file gives one line that names the file and what is wrong, and nothing is
/// allocated from sizes the file merely claims.
/// </summary>
public sealed class ModelFileErrorTests
{
    private static string LoadError(byte[] bytes, string name = "broken.bpm")
    {
        using var folder = new TempFolder();
        var path = folder.File(name);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<BackpropException>(() => Model<double>.Load(path));
        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        return error.Message;
    }

    private static byte[] Lesson() => ModelFile.ToBytes(TrainedLesson());

    /// <summary>A file with a valid preamble and checksum around the given header and payload.</summary>
    private static byte[] WithHeader(string header, byte[]? payload = null)
        => ModelFile.Assemble(Encoding.UTF8.GetBytes(header), payload ?? []);

    /// <summary>The lesson's header, edited, with the lesson's arrays and a checksum that matches.</summary>
    private static byte[] EditedLesson(Func<string, string> edit)
    {
        var bytes = Lesson();
        var headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        var header = Encoding.UTF8.GetString(bytes, 16, headerLength);
        var edited = edit(header);
        Assert.NotEqual(header, edited);
        return WithHeader(edited, bytes[(16 + headerLength)..^32]);
    }

    private static string ReplaceFirst(string header, string find, string replace)
    {
        var at = header.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' not in the header");
        return header[..at] + replace + header[(at + find.Length)..];
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        using var folder = new TempFolder();
        var path = folder.File("nothing.bpm");

        var error = Assert.Throws<BackpropException>(() => Model<double>.Load(path));

        Assert.StartsWith(path + ": cannot read the model file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_recognised_by_its_first_bytes()
        => Assert.Contains("not a Backprop model file", LoadError(Encoding.UTF8.GetBytes("dosage,efficacy\n0,0\n")), StringComparison.Ordinal);

    [Fact]
    public void An_empty_file_is_not_a_model()
        => Assert.Contains("not a Backprop model file", LoadError([]), StringComparison.Ordinal);

    [Fact]
    public void A_newer_format_version_asks_for_a_newer_backprop()
    {
        var bytes = Lesson();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 3);

        var message = LoadError(bytes);

        Assert.Contains("model format version 3 is newer than this Backprop reads (versions 1 to 2)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_40_byte_file_claiming_a_4_GB_header_is_rejected_without_allocating_it()
    {
        var bytes = new byte[40];
        "BPMODEL\0"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), uint.MaxValue);

        var message = LoadError(bytes);

        Assert.Contains("truncated", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_file_fails_on_its_header_length_or_its_checksum()
    {
        var bytes = Lesson();

        Assert.Contains("the header length", LoadError(bytes[..100]), StringComparison.Ordinal);
        Assert.Contains("checksum mismatch", LoadError(bytes[..^8]), StringComparison.Ordinal);
    }

    [Fact]
    public void One_changed_bit_fails_the_checksum()
    {
        var bytes = Lesson();
        bytes[^40] ^= 1;   // inside the last parameter (b3)

        Assert.Contains("checksum mismatch: the model file is corrupt", LoadError(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Array_sizes_that_disagree_with_the_file_are_rejected_before_anything_is_allocated()
    {
        // The first array, layer0.weight [1, 2], claims [10000, 10000].
        var bytes = EditedLesson(h => ReplaceFirst(h, "\"shape\": [", "\"shape\": [10000, 10000], \"was\": ["));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var message = LoadError(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(message.Contains("bytes but the file holds 56", StringComparison.Ordinal), message);
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_header_that_is_not_json_is_named()
        => Assert.Contains("the model header is not valid JSON", LoadError(WithHeader("{ not json")), StringComparison.Ordinal);

    [Fact]
    public void A_header_of_another_format_is_refused()
        => Assert.Contains("\"format\": \"backprop-model\"", LoadError(WithHeader("{\"format\": \"pickle\"}")), StringComparison.Ordinal);

    [Theory]
    [InlineData("\"kind\": \"dense\"", "\"kind\": \"System.Diagnostics.Process\"", "layer 1 has kind 'System.Diagnostics.Process'; this Backprop knows dense, ")]
    [InlineData("\"activation\": \"softplus\"", "\"activation\": \"gelu\"", "layer 1 (dense): unknown activation 'gelu'")]
    [InlineData("\"name\": \"layer0.bias\"", "\"name\": \"layer0.other\"", "array 2 is 'layer0.other' [2]; the layers need 'layer0.bias' [2]")]
    [InlineData("\"type\": \"float64\"", "\"type\": \"int8\"", "has type 'int8'")]
    [InlineData("\"w1\",", "", "has 2 numbers but 1 element names")]
    [InlineData("\"created\": \"", "\"created\": \"soon", "metadata.created")]
    [InlineData("\"inputs\": 2,", "\"inputs\": 3,", "layer 2 (dense): it takes 3 inputs but the layer before it gives 2")]
    [InlineData("\"outputs\": 2,", "\"outputs\": \"2\",", "layer 1 (dense): \"outputs\" must be a whole number")]
    [InlineData("\"outputs\": 2,", "\"outputs\": 2.5,", "layer 1 (dense): \"outputs\" must be a whole number")]
    [InlineData("\"outputs\": 2,", "\"outputs\": 0,", "layer 1 (dense): \"outputs\" must be a positive whole number; it is 0")]
    [InlineData("\"outputs\": 2,", "\"outputs\": 2147483647,", "layer 1 (dense) would be too large")]
    [InlineData("\"fields\": {", "\"fields\": {\"x\": {}, ", "layer 1 (dense) field \"x\" is not a number, text, true/false or a list of whole numbers")]
    [InlineData("\"fields\": {", "\"fields\": 7, \"was\": {", "layer 1 (dense) has \"fields\" that are not an object")]
    [InlineData("\"arrays\": [", "\"arrays\": [], \"was\": [", "layer 1 (dense) lists 0 arrays; it needs 2")]
    [InlineData("\"inputShape\": [", "\"inputShape\": [0, ", "\"inputShape\" is not a list of positive whole numbers")]
    [InlineData("\"inputShape\": [", "\"inputShape\": [], \"was\": [", "\"inputShape\" [] is empty or too large")]
    [InlineData("\"inputShape\": [", "\"inputShape\": [2, ", "layer 1 (dense): dense takes rows of numbers, not examples of shape [2, 1]; put a flatten before it")]
    [InlineData("\"shape\": [", "\"shape\": [\"1\", ", "array 'layer0.weight' has a dimension that is not a positive whole number")]
    [InlineData("\"shape\": [", "\"shape\": [1.5, ", "array 'layer0.weight' has a dimension that is not a positive whole number")]
    [InlineData("\"finalLoss\": ", "\"finalLoss\": 1e400, \"was\": ", "metadata.finalLoss is not a finite number")]
    [InlineData("\"finalLoss\": ", "\"finalLoss\": \"low\", \"was\": ", "metadata.finalLoss is not a finite number")]
    [InlineData("\"seed\": \"1\"", "\"seed\": 1", "metadata.seed is not a whole number in a string")]
    [InlineData("\"layers\": [", "\"layers\": 7, \"was\": [", "the header has no list \"layers\"")]
    [InlineData("\"inputs\": 1,", "\"inputs\": 3,", "\"inputs\" is 3; the layers have 1.")]
    [InlineData("\"inputs\": 1,", "\"inputs\": \"1\",", "\"inputs\" is \"1\"; the layers have 1.")]
    [InlineData("\"inputs\": 1,", "", "\"inputs\" is missing; the layers have 1.")]
    [InlineData("\"outputs\": 1,", "\"outputs\": 5,", "\"outputs\" is 5; the layers have 1.")]
    [InlineData("\"elementType\": \"float64\"", "\"elementType\": \"float32\"", "\"elementType\" says float32 but the parameters are float64.")]
    [InlineData("\"elementType\": \"float64\"", "\"elementType\": \"int8\"", "\"elementType\" is 'int8'; a model holds float32 or float64.")]
    [InlineData("\"inputNames\": [", "\"inputNames\": [\"Extra\", ", "invalid model file: metadata.inputNames names 2 input columns; the network takes 1.")]
    [InlineData("\"inputNames\": [\n      \"Dosage\"\n    ]", "\"inputNames\": []", "invalid model file: metadata.inputNames names 0 input columns; the network takes 1.")]
    [InlineData("\"outputNames\": [", "\"outputNames\": [\"Extra\", ", "invalid model file: metadata.outputNames names 2 output columns; the network has 1.")]
    [InlineData("\"layers\": [", "\"layers\": [], \"was\": [", "the header has no layers")]
    public void An_inconsistent_header_is_named_precisely(string find, string replace, string expected)
    {
        var bytes = EditedLesson(h => ReplaceFirst(h, find, replace));

        var message = LoadError(bytes);

        Assert.Contains("invalid model file: ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1e-320, "1E-320")]
    [InlineData(0.0, "0")]
    [InlineData(1e-39, "1E-39")]
    public void A_normalisation_deviation_too_small_to_divide_by_is_refused(double deviation, string shown)
    {
        var model = new Model<double>(TrainedLesson().Network) { Normalization = new InputNormalization([0.5], [0.25]) };
        var bytes = ModelFile.ToBytes(model);
        var headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        var payload = bytes[(16 + headerLength)..^32];
        BinaryPrimitives.WriteDoubleLittleEndian(payload.AsSpan(payload.Length - 8), deviation);   // normalization.stdDev, the last number

        var message = LoadError(ModelFile.Assemble(bytes[16..(16 + headerLength)], payload));

        Assert.EndsWith($"invalid model file: Input normalisation: the standard deviation of input 1 is {shown}; it must be a finite number of at least 1.1754943508222875E-38.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_double_model_whose_normalisation_does_not_fit_in_float_is_refused_as_float()
    {
        var model = new Model<double>(TrainedLesson().Network) { Normalization = new InputNormalization([1e300], [1]) };
        using var folder = new TempFolder();
        var path = folder.File("wide.bpm");
        model.Save(path);

        Assert.Equal(1e300, Model<double>.Load(path).Normalization!.Mean[0]);
        var error = Assert.Throws<BackpropException>(() => Model<float>.Load(path));
        Assert.Equal($"{path}: invalid model file: The input normalisation of input 1 (mean 1E+300, standard deviation 1) does not fit in float32.", error.Message);
    }

    [Fact]
    public void Format_version_0_is_not_known()
    {
        var bytes = Lesson();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0);

        Assert.Contains("model format version 0 is not one Backprop knows (it reads versions 1 to 2)", LoadError(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_of_0_is_refused()
    {
        var bytes = Lesson();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), 0);

        Assert.Contains($"the header length 0 does not fit in the file ({bytes.Length} bytes)", LoadError(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_that_is_not_utf8_is_named_with_its_byte()
    {
        var header = Encoding.UTF8.GetBytes("{\"format\": \"backprop-model\", \"layers\": [{\"type\": \"dense\", \"activation\": \"X\"}]}");
        header[Array.IndexOf(header, (byte)'X')] = 0xB4;

        var message = LoadError(ModelFile.Assemble(header, []));

        Assert.Contains($"the model header is not valid UTF-8 at byte {16 + Array.IndexOf(header, (byte)0xB4)}.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void A_parameter_that_is_not_finite_is_refused(double value, string shown)
    {
        var bytes = Lesson();
        var headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        var payload = bytes[(16 + headerLength)..^32];
        BinaryPrimitives.WriteDoubleLittleEndian(payload.AsSpan(8), value);   // w2, the second number of layer0.weight

        var message = LoadError(ModelFile.Assemble(bytes[16..(16 + headerLength)], payload));

        Assert.Contains($"invalid model file: array 'layer0.weight' holds {shown} at element 2; a model's numbers are finite.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_end_is_not_read_past_its_first_bytes()
    {
        if (!File.Exists("/dev/zero"))
        {
            return;   // not a Unix system
        }

        var error = Assert.Throws<BackpropException>(() => Model<double>.Load("/dev/zero"));

        Assert.Equal("/dev/zero: not a Backprop model file (it does not start with BPMODEL).", error.Message);
    }

    [Fact]
    public void A_folder_is_named_as_one()
    {
        using var folder = new TempFolder();

        var error = Assert.Throws<BackpropException>(() => Model<double>.Load(folder.Path));

        Assert.Equal($"{folder.Path}: cannot read the model file: it is a folder, not a file.", error.Message);
    }
}
