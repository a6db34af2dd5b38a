using System.Numerics;

namespace Backprop.Data;

/// <summary>
/// The input values of a dataset, row-major: as doubles (CSV, the lesson) or as bytes with a scale
/// (images: a quarter of the memory of floats, an eighth of doubles).
/// </summary>
internal abstract class FeatureStore(int columns)
{
    public int Columns { get; } = columns;

    public abstract int Length { get; }

    public int Rows => Length / Columns;

    public abstract double this[int index] { get; }

    /// <summary>Writes rows [start, start + count) into <paramref name="destination"/>, converted to T.</summary>
    public abstract void CopyRows<T>(int start, int count, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A new store holding the given rows, in that order.</summary>
    public abstract FeatureStore Select(ReadOnlySpan<int> rows);
}

internal sealed class DoubleFeatures(double[] values, int columns) : FeatureStore(columns)
{
    public double[] Values => values;

    public override int Length => values.Length;

    public override double this[int index] => values[index];

    public override void CopyRows<T>(int start, int count, Span<T> destination)
    {
        ReadOnlySpan<double> source = values.AsSpan(start * Columns, count * Columns);
        if (typeof(T) == typeof(double))
        {
            source.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(destination));
            return;
        }
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = T.CreateChecked(source[i]);
        }
    }

    public override FeatureStore Select(ReadOnlySpan<int> rows)
    {
        var result = new double[rows.Length * Columns];
        for (var r = 0; r < rows.Length; r++)
        {
            values.AsSpan(rows[r] * Columns, Columns).CopyTo(result.AsSpan(r * Columns));
        }
        return new DoubleFeatures(result, Columns);
    }
}

/// <summary>Bytes b read as b × scale (pixels 0…255 as 0…1 with scale 1/255).</summary>
internal sealed class ByteFeatures(byte[] values, int columns, double scale) : FeatureStore(columns)
{
    public override int Length => values.Length;

    public override double this[int index] => values[index] * scale;

    public override void CopyRows<T>(int start, int count, Span<T> destination)
    {
        // One table of the 256 possible values, so every element is a lookup, identical in any precision.
        Span<T> table = stackalloc T[256];
        for (var b = 0; b < 256; b++)
        {
            table[b] = T.CreateChecked(b * scale);
        }
        ReadOnlySpan<byte> source = values.AsSpan(start * Columns, count * Columns);
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = table[source[i]];
        }
    }

    public override FeatureStore Select(ReadOnlySpan<int> rows)
    {
        var result = new byte[rows.Length * Columns];
        for (var r = 0; r < rows.Length; r++)
        {
            values.AsSpan(rows[r] * Columns, Columns).CopyTo(result.AsSpan(r * Columns));
        }
        return new ByteFeatures(result, Columns, scale);
    }
}
