using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Backprop.Serialization;
using Backprop.Tests.TestUtil;
using Xunit.Abstractions;
using static Backprop.Tests.Serialization.ModelTestData;

namespace Backprop.Tests.Serialization;

/// <summary>
/// 10,000 seeded mutations of valid model files: each is loaded or refused with one line naming the
/// file — never another exception, and never an allocation the size the file merely claims. Most
/// mutations get a fresh checksum, so that they reach the header and the arrays instead of stopping
/// at the SHA-256.
/// </summary>
public sealed partial class ModelFileFuzzTests(ITestOutputHelper output)
{
    private const string Source = "fuzz/model.bpm";

    // The version and the header length.
    private static readonly int[] SizeFields = [8, 12];

    private static readonly string[] JsonPieces =
    [
        "1e400", "-1", "0", "2147483648", "4294967296", "1.5", "65536", "\"x\"", "\"\"", "null", "true", "[]", "{}", "[1, 2]",
        "[65536, 65536]", "[\"a\"]", "\"float32\"", "\"float64\"", "\"dense\"", "\"activation\"", "\"relu\"", "\"layer0.weight\"", "-0", "1e-400",
    ];

    [GeneratedRegex("-?[0-9][0-9.eE+-]*|\"(?:[^\"\\\\]|\\\\.)*\"|true|false|null")]
    private static partial Regex JsonValue();

    [Fact]
    public void Ten_thousand_mutated_model_files_are_loaded_or_refused_with_one_line()
    {
        byte[][] valid = [ModelFile.ToBytes(TrainedLesson()), ModelFile.ToBytes(TrainedClassifier<float>()), ModelFile.ToBytes(TrainedClassifier<double>())];
        var mutator = new Mutator(seed: 8);
        var asFloat = false;

        var outcome = Fuzz.Run(10_000, i =>
        {
            asFloat = mutator.Rng.NextInt(2) == 0;
            var original = valid[mutator.Rng.NextInt(valid.Length)];
            return mutator.Rng.NextInt(10) switch
            {
                // Bytes changed anywhere, the checksum left as it was: almost all fail it.
                0 or 1 => mutator.Bytes(original, SizeFields),
                // Bytes changed anywhere, then the checksum made to match.
                2 or 3 or 4 => Resigned(mutator.Bytes(original, SizeFields)),
                // The JSON header edited, with a matching checksum.
                _ => EditHeader(mutator, original),
            };
        }, bytes =>
        {
            if (asFloat)
            {
                _ = ModelFile.FromBytes<float>(bytes, Source);
            }
            else
            {
                _ = ModelFile.FromBytes<double>(bytes, Source);
            }
        }, Source);

        output.WriteLine($"{outcome.Inputs} inputs in {outcome.Elapsed.TotalSeconds:F2} s: {outcome.Read} read, {outcome.Refused} refused");
        Assert.True(outcome.Read > 100 && outcome.Refused > 5000, $"{outcome.Read} read, {outcome.Refused} refused");
    }

    private static byte[] Resigned(byte[] bytes)
    {
        if (bytes.Length >= 48)
        {
            SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32), bytes.AsSpan(bytes.Length - 32));
        }
        return bytes;
    }

    // One to three JSON values replaced, or lines deleted or duplicated; the payload mutated now and then.
    private static byte[] EditHeader(Mutator mutator, byte[] original)
    {
        var headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(12));
        var header = Encoding.UTF8.GetString(original, 16, headerLength);
        var payload = original[(16 + headerLength)..^32];
        var count = 1 + mutator.Rng.NextInt(3);
        for (var m = 0; m < count; m++)
        {
            var lines = header.Split('\n').ToList();
            var line = mutator.Rng.NextInt(lines.Count);
            switch (mutator.Rng.NextInt(5))
            {
                case 0:
                    lines.RemoveAt(line);
                    header = string.Join('\n', lines);
                    break;
                case 1:
                    lines.Insert(line, lines[mutator.Rng.NextInt(lines.Count)]);
                    header = string.Join('\n', lines);
                    break;
                default:
                    var values = JsonValue().Matches(header);
                    var value = values[mutator.Rng.NextInt(values.Count)];
                    header = header[..value.Index] + JsonPieces[mutator.Rng.NextInt(JsonPieces.Length)] + header[(value.Index + value.Length)..];
                    break;
            }
        }
        if (mutator.Rng.NextInt(5) == 0)
        {
            payload = mutator.Bytes(payload);
        }
        return ModelFile.Assemble(Encoding.UTF8.GetBytes(header), payload);
    }
}
