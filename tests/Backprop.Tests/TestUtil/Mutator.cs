using System.Buffers.Binary;

namespace Backprop.Tests.TestUtil;

/// <summary>
/// Seeded mutations of valid files, for the readers' fuzz tests: bit flips, byte changes, inserted,
/// deleted and duplicated chunks, truncation, and 32-bit fields overwritten with extreme sizes.
/// </summary>
internal sealed class Mutator(ulong seed)
{
    private static readonly uint[] ExtremeSizes = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x00FFFFFF, 0x40000000, 60000, 0x10000];

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)',', (byte)'"', (byte)'\n', (byte)'\r', (byte)'{', (byte)'}', (byte)'9', 0x1F, 0x8B];

    public Rng Rng { get; } = new(seed);

    /// <summary>One to three mutations of <paramref name="original"/>; <paramref name="sizeFields"/> are offsets of 32-bit size fields worth hitting.</summary>
    public byte[] Bytes(byte[] original, IReadOnlyList<int>? sizeFields = null, bool bigEndian = false)
    {
        var bytes = new List<byte>(original);
        var count = 1 + Rng.NextInt(3);
        for (var m = 0; m < count; m++)
        {
            Mutate(bytes, sizeFields ?? [], bigEndian);
        }
        return [.. bytes];
    }

    private void Mutate(List<byte> bytes, IReadOnlyList<int> sizeFields, bool bigEndian)
    {
        var at = bytes.Count == 0 ? 0 : Rng.NextInt(bytes.Count);
        switch (Rng.NextInt(9))
        {
            case 0 when bytes.Count > 0:
                bytes[at] ^= (byte)(1 << Rng.NextInt(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[at] = Rng.NextInt(2) == 0 ? InterestingBytes[Rng.NextInt(InterestingBytes.Length)] : (byte)Rng.NextInt(256);
                break;
            case 2:
                bytes.InsertRange(at, Enumerable.Range(0, 1 + Rng.NextInt(8)).Select(_ => (byte)Rng.NextInt(256)));
                break;
            case 3 when bytes.Count > 0:
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + Rng.NextInt(16)));
                break;
            case 4:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 5 when bytes.Count > 0:
                var length = Math.Min(bytes.Count - at, 1 + Rng.NextInt(64));
                bytes.InsertRange(Rng.NextInt(bytes.Count + 1), bytes.GetRange(at, length));
                break;
            case 6 or 7 when bytes.Count >= 4:
                // A size field (or any aligned word) made huge, zero or just wrong.
                var field = SizeField(bytes.Count, sizeFields);
                Span<byte> word = stackalloc byte[4];
                var value = Rng.NextInt(3) == 0 ? (uint)Rng.NextUInt64() : ExtremeSizes[Rng.NextInt(ExtremeSizes.Length)];
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(word, value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(word, value);
                }
                for (var i = 0; i < 4; i++)
                {
                    bytes[field + i] = word[i];
                }
                break;
            default:
                bytes.AddRange(Enumerable.Range(0, 1 + Rng.NextInt(32)).Select(_ => (byte)Rng.NextInt(256)));
                break;
        }
    }

    private int SizeField(int length, IReadOnlyList<int> sizeFields)
    {
        var usable = sizeFields.Where(f => f + 4 <= length).ToList();
        return usable.Count > 0 && Rng.NextInt(4) != 0 ? usable[Rng.NextInt(usable.Count)] : Rng.NextInt(length - 3) & ~3 & int.MaxValue;
    }

    private static readonly string[] Pieces =
    [
        "NaN", "Infinity", "-Infinity", "inf", "1e400", "-1e-400", "", " ", "\"", "\"\"", "\"a,b\"", "\"open", "abc", "1,2", ",", ",,",
        "\u0000", "\t", "\r", "\n", "\uFEFF", "é", "1.5", "-0", "0x10", "1,5", "  7  ", "+3", "1e5", "1_000", "x", "y", "\"1\"", "label",
    ];

    /// <summary>One to three text mutations of CSV text: cells replaced, lines deleted or duplicated, characters inserted or removed.</summary>
    public string Csv(string original)
    {
        var text = original;
        var count = 1 + Rng.NextInt(3);
        for (var m = 0; m < count; m++)
        {
            text = MutateCsv(text);
        }
        return text;
    }

    private string MutateCsv(string text)
    {
        var lines = text.Split('\n').ToList();
        var line = Rng.NextInt(lines.Count);
        switch (Rng.NextInt(8))
        {
            case 0 or 1:
                // A cell replaced with something awkward.
                var cells = lines[line].Split(',');
                cells[Rng.NextInt(cells.Length)] = Pieces[Rng.NextInt(Pieces.Length)];
                lines[line] = string.Join(',', cells);
                break;
            case 2:
                lines.RemoveAt(line);
                break;
            case 3:
                lines.Insert(Rng.NextInt(lines.Count + 1), lines[line]);
                break;
            case 4:
                var at = Rng.NextInt(lines[line].Length + 1);
                lines[line] = lines[line][..at] + Pieces[Rng.NextInt(Pieces.Length)] + lines[line][at..];
                break;
            case 5 when lines[line].Length > 0:
                var from = Rng.NextInt(lines[line].Length);
                lines[line] = lines[line][..from] + lines[line][Math.Min(lines[line].Length, from + 1 + Rng.NextInt(4))..];
                break;
            case 6:
                return text[..Rng.NextInt(text.Length + 1)];
            default:
                var other = Rng.NextInt(lines.Count);
                (lines[line], lines[other]) = (lines[other], lines[line]);
                break;
        }
        return string.Join('\n', lines);
    }
}
