using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// A bias row and a matrix of rows: adding the row to every row (a dense layer's forward pass) and
/// summing the rows into it (the bias gradient), in one call for the whole matrix.
/// </summary>
/// <remarks>
/// Each element gets the additions it would get row by row from <c>TensorPrimitives.Add</c>, in the
/// same order and with the same operands first (y + b; db + dz of row 0, then of row 1, …), so the
/// bits are those of the row-by-row loop; the saving is the per-call cost of many short rows (a
/// 32×16 batch was 32 calls of 16 numbers). Columns go a Vector512, Vector256 or Vector128 at a time,
/// then one at a time.
/// </remarks>
public static class BiasKernels
{
    /// <summary>y[r, j] = y[r, j] + b[j] for every row r of <paramref name="y"/> (rows of b.Length numbers).</summary>
    /// <exception cref="ArgumentException">y is not a whole number of rows of b.Length numbers.</exception>
    public static void AddToRows<T>(Span<T> y, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = CheckRows(y.Length, b.Length, nameof(y));
        if (n == 0)
        {
            return;
        }
        ref var rb = ref MemoryMarshal.GetReference(b);
        for (var start = 0; start < y.Length; start += n)
        {
            ref var ry = ref MemoryMarshal.GetReference(y.Slice(start, n));
            nuint j = 0, count = (nuint)n;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                for (; j + (nuint)Vector512<T>.Count <= count; j += (nuint)Vector512<T>.Count)
                {
                    (Vector512.LoadUnsafe(ref ry, j) + Vector512.LoadUnsafe(ref rb, j)).StoreUnsafe(ref ry, j);
                }
            }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                for (; j + (nuint)Vector256<T>.Count <= count; j += (nuint)Vector256<T>.Count)
                {
                    (Vector256.LoadUnsafe(ref ry, j) + Vector256.LoadUnsafe(ref rb, j)).StoreUnsafe(ref ry, j);
                }
            }
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            {
                for (; j + (nuint)Vector128<T>.Count <= count; j += (nuint)Vector128<T>.Count)
                {
                    (Vector128.LoadUnsafe(ref ry, j) + Vector128.LoadUnsafe(ref rb, j)).StoreUnsafe(ref ry, j);
                }
            }
            for (; j < count; j++)
            {
                Unsafe.Add(ref ry, j) += Unsafe.Add(ref rb, j);
            }
        }
    }

    /// <summary>db[j] = db[j] + dz[0, j] + dz[1, j] + … (in row order) for the rows of <paramref name="dz"/> (rows of db.Length numbers).</summary>
    /// <exception cref="ArgumentException">dz is not a whole number of rows of db.Length numbers.</exception>
    public static void AddRowsTo<T>(ReadOnlySpan<T> dz, Span<T> db) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = CheckRows(dz.Length, db.Length, nameof(dz));
        if (n == 0)
        {
            return;
        }
        var rows = dz.Length / n;
        ref var rz = ref MemoryMarshal.GetReference(dz);
        ref var rd = ref MemoryMarshal.GetReference(db);
        nuint j = 0, count = (nuint)n;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; j + (nuint)Vector512<T>.Count <= count; j += (nuint)Vector512<T>.Count)
            {
                var sum = Vector512.LoadUnsafe(ref rd, j);
                for (nuint r = 0, at = j; r < (nuint)rows; r++, at += count)
                {
                    sum += Vector512.LoadUnsafe(ref rz, at);
                }
                sum.StoreUnsafe(ref rd, j);
            }
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; j + (nuint)Vector256<T>.Count <= count; j += (nuint)Vector256<T>.Count)
            {
                var sum = Vector256.LoadUnsafe(ref rd, j);
                for (nuint r = 0, at = j; r < (nuint)rows; r++, at += count)
                {
                    sum += Vector256.LoadUnsafe(ref rz, at);
                }
                sum.StoreUnsafe(ref rd, j);
            }
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            for (; j + (nuint)Vector128<T>.Count <= count; j += (nuint)Vector128<T>.Count)
            {
                var sum = Vector128.LoadUnsafe(ref rd, j);
                for (nuint r = 0, at = j; r < (nuint)rows; r++, at += count)
                {
                    sum += Vector128.LoadUnsafe(ref rz, at);
                }
                sum.StoreUnsafe(ref rd, j);
            }
        }
        for (; j < count; j++)
        {
            var sum = Unsafe.Add(ref rd, j);
            for (nuint r = 0, at = j; r < (nuint)rows; r++, at += count)
            {
                sum += Unsafe.Add(ref rz, at);
            }
            Unsafe.Add(ref rd, j) = sum;
        }
    }

    // The row length, after checking that the matrix is whole rows of it.
    private static int CheckRows(int matrixLength, int rowLength, string name)
    {
        if (rowLength == 0 ? matrixLength != 0 : matrixLength % rowLength != 0)
        {
            throw new ArgumentException($"The matrix holds {matrixLength} numbers, not a whole number of rows of {rowLength}.", name);
        }
        return rowLength;
    }
}
