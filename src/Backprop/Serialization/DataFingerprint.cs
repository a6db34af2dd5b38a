using System.Buffers.Binary;
using System.Security.Cryptography;
using Backprop.Data;

namespace Backprop.Serialization;

/// <summary>
/// A fingerprint of a dataset: the SHA-256 of its shape and its numbers, so that a model file can
/// say which data it was trained on, and two runs can tell whether they saw the same data.
/// </summary>
/// <remarks>
/// Hashed, in order: row count, input count, target count (32-bit little-endian), then every input
/// and every target as a 64-bit little-endian IEEE 754 double. Column names are not part of it.
/// </remarks>
public static class DataFingerprint
{
    /// <summary>The fingerprint of <paramref name="data"/>: <c>sha256:</c> then 64 lowercase hex digits.</summary>
    public static string Of(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[8 * 64];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, data.Count);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], data.InputCount);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[8..], data.TargetCount);
        hash.AppendData(buffer[..12]);
        // The inputs a few rows at a time: image datasets keep bytes, and Dataset.Inputs would make a
        // double copy eight times their size (340 MB for Fashion-MNIST) and keep it.
        var rowsPerChunk = Math.Max(1, 4096 / data.InputCount);
        var rows = new double[rowsPerChunk * data.InputCount];
        for (var start = 0; start < data.Count; start += rowsPerChunk)
        {
            var count = Math.Min(rowsPerChunk, data.Count - start);
            data.CopyInputs<double>(start, count, rows);
            Append(hash, rows.AsSpan(0, count * data.InputCount), buffer);
        }
        Append(hash, data.Targets, buffer);
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<double> values, Span<byte> buffer)
    {
        var perChunk = buffer.Length / 8;
        for (var start = 0; start < values.Length; start += perChunk)
        {
            var count = Math.Min(perChunk, values.Length - start);
            for (var i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(buffer[(i * 8)..], values[start + i]);
            }
            hash.AppendData(buffer[..(count * 8)]);
        }
    }
}
