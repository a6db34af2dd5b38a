using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// General matrix multiply on row-major spans: C = op(A)·op(B) (+ C), where op(X) is X or Xᵀ.
/// </summary>
/// <remarks>
/// <para>
/// The transposed forms are what back-propagation through a matrix product needs
/// (dA = dC·Bᵀ, dB = Aᵀ·dC); they are computed without materialising a transpose — the packing
/// routines read the operands in whichever order they are stored.
/// </para>
/// <para>
/// Arithmetic. Every element is computed the same way on every path, every kernel and at every
/// thread count: the k steps are cut into blocks of <see cref="KC"/>; within a block the products are
/// added one after another to a partial sum that starts at zero, with a fused multiply-add per step
/// (separate multiply and add where the hardware has no FMA); then the partial sum is stored (first
/// block, not accumulating) or added to C. So the result does not depend on the thread count or on
/// the SIMD width, and its error is bounded like any recursive sum: |Ĉ − C| ≤ γ_(k+1)·(Σₚ|aᵢₚ·bₚⱼ| + |C₀|),
/// γ_n = n·u/(1 − n·u), u the unit roundoff.
/// </para>
/// <para>
/// Paths. Tiny products (the lesson's 3×1·1×2) go straight through loops with no setup. Others go
/// through the cache-blocked driver (<see cref="GemmJob{T, TK}"/>) with a register-tiled micro-kernel
/// (<see cref="Kernel256{T}"/> and relatives) on as many threads as
/// <see cref="Parallelism.MaxDegreeOfParallelism"/> allows once the product is large enough to gain.
/// float and double use the SIMD kernels; any other number type takes the simple loops.
/// </para>
/// </remarks>
public static class Gemm
{
    /// <summary>Steps of k per block: the unit in which partial sums are formed and added to C.</summary>
    internal const int KC = 256;

    /// <summary>Products of at most this many multiply-adds (m·n·k) take the loop path.</summary>
    internal const long SmallProduct = 4096;

    /// <summary>Products of at least this many multiply-adds may be spread over threads.</summary>
    internal const long ParallelProduct = 1L << 20;

    /// <summary>
    /// C[m×n] = op(A)[m×k] · op(B)[k×n], added to C when <paramref name="accumulate"/> is true.
    /// A is stored m×k (k×m when <paramref name="transposeA"/>), B is stored k×n (n×k when
    /// <paramref name="transposeB"/>). Uses up to <see cref="Parallelism.MaxDegreeOfParallelism"/> threads.
    /// </summary>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(transposeA, transposeB, m, n, k, a, b, c, accumulate, new GemmOptions(Parallelism.MaxDegreeOfParallelism));

    /// <summary>The same product with the path, kernel and thread count chosen (for tests and benchmarks).</summary>
    internal static unsafe void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, GemmOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
        {
            throw new ArgumentException($"Spans too short for a {m}×{k} by {k}×{n} product.");
        }
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            if (!accumulate)
            {
                c[..(m * n)].Clear();
            }
            return;
        }
        var product = (long)m * n * k;
        var blocked = (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            && options.Path switch
            {
                GemmPath.Small => false,
                GemmPath.Blocked => true,
                _ => product > SmallProduct,
            };
        fixed (T* pa = a, pb = b, pc = c)
        {
            if (!blocked)
            {
                Small(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate);
                return;
            }
            var threads = options.ForceParallel || product >= ParallelProduct ? Math.Max(1, options.Threads) : 1;
            var maxPacked = options.MaxPackedElements > 0 ? options.MaxPackedElements : GemmJob<float, Kernel256<float>>.DefaultMaxPackedElements;
            switch (options.Kernel == GemmKernel.Auto ? Simd.Best : options.Kernel)
            {
                case GemmKernel.Vector512:
                    GemmJob<T, Kernel512<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
                case GemmKernel.Vector256:
                    GemmJob<T, Kernel256<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
                case GemmKernel.Vector128:
                    GemmJob<T, Kernel128<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
                default:
                    GemmJob<T, KernelScalar<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
            }
        }
    }

    /// <summary>
    /// The loop path for tiny products: no packing, no threads, no buffers — the same arithmetic as
    /// the micro-kernels (a multiply-add chain from zero per k-block, then stored or added to C).
    /// </summary>
    /// <remarks>
    /// When B is not transposed its rows are contiguous, so each row of C is built W columns at a time
    /// with one vector chain per W columns (W = 8 floats / 4 doubles on AVX2): lane j of the chain is
    /// exactly the scalar chain of C[i, j0+j]. The columns left over, and the transposed-B form, use the
    /// scalar chain itself.
    /// </remarks>
    private static unsafe void Small<T>(bool transposeA, bool transposeB, int m, int n, int k, T* a, T* b, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // op(A)[i, p] = a[i·rsA + p·csA];  op(B)[p, j] = b[p·rsB + j·csB].
        nint rsA = transposeA ? 1 : k, csA = transposeA ? m : 1;
        nint rsB = transposeB ? 1 : n, csB = transposeB ? k : 1;
        for (var i = 0; i < m; i++)
        {
            var ai = a + (i * rsA);
            var ci = c + ((nint)i * n);
            var j = 0;
            if (!transposeB)
            {
                if (Vector256.IsHardwareAccelerated && Simd.HasFma && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
                {
                    for (; j + Vector256<T>.Count <= n; j += Vector256<T>.Count)
                    {
                        var cij = Vector256.Load(ci + j);
                        for (var p0 = 0; p0 < k; p0 += KC)
                        {
                            var p1 = Math.Min(k, p0 + KC);
                            var s = Vector256<T>.Zero;
                            for (var p = p0; p < p1; p++)
                            {
                                s = Simd.MulAdd(Vector256.Create(ai[p * csA]), Vector256.Load(b + (p * rsB) + j), s);
                            }
                            cij = p0 == 0 && !accumulate ? s : s + cij;
                        }
                        cij.Store(ci + j);
                    }
                }
                else if (Vector128.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
                {
                    for (; j + Vector128<T>.Count <= n; j += Vector128<T>.Count)
                    {
                        var cij = Vector128.Load(ci + j);
                        for (var p0 = 0; p0 < k; p0 += KC)
                        {
                            var p1 = Math.Min(k, p0 + KC);
                            var s = Vector128<T>.Zero;
                            for (var p = p0; p < p1; p++)
                            {
                                s = Simd.MulAdd(Vector128.Create(ai[p * csA]), Vector128.Load(b + (p * rsB) + j), s);
                            }
                            cij = p0 == 0 && !accumulate ? s : s + cij;
                        }
                        cij.Store(ci + j);
                    }
                }
            }
            for (; j < n; j++)
            {
                var bj = b + (j * csB);
                var cij = ci[j];
                for (var p0 = 0; p0 < k; p0 += KC)
                {
                    var p1 = Math.Min(k, p0 + KC);
                    var s = T.Zero;
                    for (var p = p0; p < p1; p++)
                    {
                        s = Simd.MulAdd(ai[p * csA], bj[p * rsB], s);
                    }
                    cij = p0 == 0 && !accumulate ? s : s + cij;
                }
                ci[j] = cij;
            }
        }
    }
}

/// <summary>Which code path <see cref="Gemm"/> takes.</summary>
internal enum GemmPath
{
    /// <summary>Loops for tiny products, the blocked driver otherwise.</summary>
    Auto,

    /// <summary>Always the loops (no packing).</summary>
    Small,

    /// <summary>Always the blocked driver (float and double).</summary>
    Blocked,
}

/// <summary>How a <see cref="Gemm"/> call runs; the result is the same bits for any choice (given FMA or not).</summary>
/// <param name="Threads">Most threads to use, counting the caller.</param>
/// <param name="Kernel">Micro-kernel; Auto is the widest the hardware runs natively.</param>
/// <param name="Path">Loops or blocked driver; Auto decides by size.</param>
/// <param name="ForceParallel">Spread even small products over <paramref name="Threads"/>.</param>
/// <param name="MaxPackedElements">Cap on each packed copy before the problem is cut into super-blocks (0: the default).</param>
internal readonly record struct GemmOptions(int Threads, GemmKernel Kernel = GemmKernel.Auto, GemmPath Path = GemmPath.Auto,
    bool ForceParallel = false, long MaxPackedElements = 0);
