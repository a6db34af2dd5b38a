using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The bias kernels at every row length from 0 to 300 (every vector width and tail) and several row
/// counts, bit for bit against the row-by-row TensorPrimitives loop they replace. .ci/run repeats these
/// with AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class BiasKernelsTests
{
    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 301)];

    private static readonly int[] rowCounts = [0, 1, 2, 3, 5, 32];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Adding_the_bias_to_every_row_gives_the_bits_of_the_row_by_row_loop(int n)
    {
        foreach (var rows in rowCounts)
        {
            AddToRows<float>(rows, n);
            AddToRows<double>(rows, n);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Summing_the_rows_into_the_bias_gradient_gives_the_bits_of_the_row_by_row_loop(int n)
    {
        foreach (var rows in rowCounts)
        {
            AddRowsTo<float>(rows, n);
            AddRowsTo<double>(rows, n);
        }
    }

    private static void AddToRows<T>(int rows, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)((rows * 1000) + n));
        var (y, b) = (Random<T>(rng, rows * n), Random<T>(rng, n));
        var expected = (T[])y.Clone();
        for (var start = 0; start < expected.Length; start += n)
        {
            var row = expected.AsSpan(start, n);
            TensorPrimitives.Add(row, b, row);
        }
        BiasKernels.AddToRows<T>(y, b);
        AssertSameBits(expected, y, $"{typeof(T).Name} {rows}×{n}");
    }

    private static void AddRowsTo<T>(int rows, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)((rows * 1000) + n + 7));
        var (dz, db) = (Random<T>(rng, rows * n), Random<T>(rng, n));
        var expected = (T[])db.Clone();
        for (var start = 0; start < dz.Length; start += n)
        {
            TensorPrimitives.Add(expected, dz.AsSpan(start, n), expected);
        }
        BiasKernels.AddRowsTo<T>(dz, db);
        AssertSameBits(expected, db, $"{typeof(T).Name} {rows}×{n}");
    }

    // Magnitudes from 1e-3 to 1e3, so that the order of the additions shows in the last bits.
    private static T[] Random<T>(Rng rng, int length) where T : IFloatingPointIeee754<T>
        => [.. Enumerable.Range(0, length).Select(_ => T.CreateChecked(rng.NextUniform(-1, 1) * Math.Pow(10, rng.NextUniform(-3, 3))))];

    private static void AssertSameBits<T>(T[] expected, T[] actual, string what) where T : unmanaged
        => Assert.True(MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan())), $"{what}: not the bits of the row-by-row loop");

    [Fact]
    public void A_matrix_that_is_not_whole_rows_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => BiasKernels.AddToRows<float>(new float[10], new float[4]));
        Assert.Equal("The matrix holds 10 numbers, not a whole number of rows of 4. (Parameter 'y')", e.Message);
        e = Assert.Throws<ArgumentException>(() => BiasKernels.AddRowsTo<double>(new double[3], []));
        Assert.Equal("The matrix holds 3 numbers, not a whole number of rows of 0. (Parameter 'dz')", e.Message);
    }
}
