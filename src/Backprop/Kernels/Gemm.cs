using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>
/// General matrix multiply on row-major spans: C = op(A)·op(B) (+ C), where op(X) is X or Xᵀ.
/// </summary>
/// <remarks>
/// The transposed forms are what back-propagation through a matrix product needs
/// (dA = dC·Bᵀ, dB = Aᵀ·dC) and are computed without materialising a transpose.
/// This is the straightforward row-streaming version: each output row is built from whole rows of
/// B with fused multiply-adds (TensorPrimitives), which keeps it vectorised and exact in order.
/// </remarks>
public static class Gemm
{
    /// <summary>
    /// C[m×n] = op(A)[m×k] · op(B)[k×n], added to C when <paramref name="accumulate"/> is true.
    /// A is stored m×k (k×m when <paramref name="transposeA"/>), B is stored k×n (n×k when
    /// <paramref name="transposeB"/>).
    /// </summary>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException($"Spans too short for a {m}×{k} by {k}×{n} product.");
        }
        if (!accumulate)
        {
            c[..(m * n)].Clear();
        }
        if (k == 0)
        {
            return;
        }
        if (transposeB)
        {
            // C[i,j] += Σ_p opA[i,p] · B[j,p]: a dot product of two contiguous rows when A is not transposed.
            Span<T> row = transposeA ? new T[k] : default;
            for (var i = 0; i < m; i++)
            {
                ReadOnlySpan<T> ai;
                if (transposeA)
                {
                    for (var p = 0; p < k; p++)
                    {
                        row[p] = a[(p * m) + i];
                    }
                    ai = row;
                }
                else
                {
                    ai = a.Slice(i * k, k);
                }
                var ci = c.Slice(i * n, n);
                for (var j = 0; j < n; j++)
                {
                    ci[j] += TensorPrimitives.Dot(ai, b.Slice(j * k, k));
                }
            }
            return;
        }
        // C[i,:] += Σ_p opA[i,p] · B[p,:]: whole rows of B scaled and added (fused multiply-add).
        for (var i = 0; i < m; i++)
        {
            var ci = c.Slice(i * n, n);
            for (var p = 0; p < k; p++)
            {
                var aip = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), aip, ci, ci);
            }
        }
    }
}
