using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// A register-tiled GEMM micro-kernel: one MR×NR tile of C from a sliver of op(A) and a sliver of op(B).
/// </summary>
/// <remarks>
/// <para>
/// Every kernel computes, for each of its MR·NR outputs independently,
/// <code>
///   acc = 0
///   for p = 0 … kc−1:  acc = fma(A[r, p], B[p, j], acc)      // one rounding per step
///   C[r, j] = add ? C[r, j] + acc : acc
/// </code>
/// and nothing else: no sum is split across lanes, re-associated or reduced horizontally. So the
/// vector kernels of every width, the scalar kernel and the small-matrix path give the same bits
/// (when fused multiply-add is available; otherwise all of them round the product and the sum
/// separately, again the same bits). What differs between kernels is only how many outputs share one
/// instruction.
/// </para>
/// <para>
/// Operands. The A sliver is MR rows × kc columns read through strides: element (r, p) is at
/// <c>a[r·rsA + p·csA]</c>. Packed panels have rsA = 1, csA = MR (one column of MR numbers per step);
/// an unpacked row-major A has rsA = row stride, csA = 1; an unpacked transposed A has rsA = 1,
/// csA = row stride. The B sliver is kc rows × NR columns, row p at <c>b + p·ldb</c> with its NR
/// numbers contiguous (packed panels have ldb = NR). C is row-major with row stride ldc; all MR×NR
/// elements of the tile must be writable (the driver routes edge tiles through a scratch tile).
/// </para>
/// </remarks>
internal unsafe interface IMicroKernel<T> where T : unmanaged
{
    /// <summary>Rows of C per tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C per tile (a multiple of the vector width).</summary>
    static abstract int NR { get; }

    /// <summary>C[0..MR, 0..NR] (+)= A[0..MR, 0..kc] · B[0..kc, 0..NR]; see the interface remarks.</summary>
    static abstract void Run(int kc, T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, bool add);
}

/// <summary>Which micro-kernel the GEMM uses; <see cref="Auto"/> picks the widest one the hardware runs natively.</summary>
internal enum GemmKernel
{
    /// <summary>Vector512 with FMA, else Vector256 with FMA, else Vector128, else scalar.</summary>
    Auto,

    /// <summary>6 × 2 Vector512 (AVX-512): 6×32 floats or 6×16 doubles per tile.</summary>
    Vector512,

    /// <summary>6 × 2 Vector256 (AVX2 + FMA): 6×16 floats or 6×8 doubles per tile.</summary>
    Vector256,

    /// <summary>6 × 2 Vector128 (SSE / AdvSIMD): 6×8 floats or 6×4 doubles per tile.</summary>
    Vector128,

    /// <summary>4×4 scalars: for hardware (or runtimes) without SIMD.</summary>
    Scalar,
}

/// <summary>The multiply-add every kernel uses, and which kernel the hardware favours.</summary>
internal static class Simd
{
    /// <summary>
    /// Whether fused multiply-add is a hardware instruction here (x86 FMA3, or any Arm64). A JIT-time
    /// constant, so the branches on it below cost nothing. Without it, kernels round a·b and then
    /// the sum — emulating fusion in software would be many times slower.
    /// </summary>
    public static bool HasFma
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Fma.IsSupported || AdvSimd.Arm64.IsSupported;
    }

    /// <summary>The kernel <see cref="GemmKernel.Auto"/> stands for on this machine.</summary>
    public static GemmKernel Best
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated && HasFma ? GemmKernel.Vector512
            : Vector256.IsHardwareAccelerated && HasFma ? GemmKernel.Vector256
            : Vector128.IsHardwareAccelerated ? GemmKernel.Vector128
            : GemmKernel.Scalar;
    }

    /// <summary>
    /// Asks for the 6 rows of a C tile (NR numbers each, possibly straddling two cache lines) to be
    /// brought into L1 while the k loop runs, so the final load-add-store of C does not stall on
    /// memory (rows of C are a whole matrix row apart, so the hardware prefetcher cannot guess them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchTile<T>(T* c, nint ldc, int nr) where T : unmanaged
    {
        if (Sse.IsSupported)
        {
            for (var r = 0; r < 6; r++)
            {
                Sse.Prefetch0(c + (r * ldc));
                Sse.Prefetch0(c + (r * ldc) + nr - 1);
            }
        }
    }

    /// <summary>Asks for <paramref name="bytes"/> bytes from <paramref name="start"/> to be brought into L2 (one hint per cache line).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchToL2(byte* start, nint bytes)
    {
        if (Sse.IsSupported)
        {
            for (nint i = 0; i < bytes; i += 64)
            {
                Sse.Prefetch1(start + i);
            }
        }
    }

    /// <summary>Asks for <paramref name="bytes"/> bytes from <paramref name="start"/> to be brought into L1 (one hint per cache line).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchToL1(byte* start, nint bytes)
    {
        if (Sse.IsSupported)
        {
            for (nint i = 0; i < bytes; i += 64)
            {
                Sse.Prefetch0(start + i);
            }
        }
    }

    /// <summary>acc + x·y, fused when <see cref="HasFma"/> (one rounding), else two roundings.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MulAdd<T>(T x, T y, T acc) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => Fma.IsSupported || AdvSimd.Arm64.IsSupported ? T.FusedMultiplyAdd(x, y, acc) : (x * y) + acc;

    /// <summary>Lane-wise acc + x·y, exactly <see cref="MulAdd{T}(T, T, T)"/> in every lane.</summary>
    /// <remarks>
    /// The ISA intrinsics (Fma.MultiplyAdd, AdvSimd.FusedMultiplyAdd) are used rather than
    /// Vector128.FusedMultiplyAdd because the JIT then keeps each accumulator in place (the
    /// "231" form, acc = x·y + acc); the portable call made it copy every other accumulator.
    /// (Written as if-statements: a conditional expression here made the JIT copy through a temporary.)
    /// The portable call remains for a vector width the hardware lacks (tests force such kernels;
    /// the runtime emulates it lane by lane, still fused).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MulAdd<T>(Vector128<T> x, Vector128<T> y, Vector128<T> acc)
    {
        if (!Fma.IsSupported && !AdvSimd.Arm64.IsSupported) // !HasFma, spelled out so the JIT folds it while inlining
        {
            return (x * y) + acc;
        }
        if (typeof(T) == typeof(float))
        {
            if (Fma.IsSupported)
            {
                return Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            }
            if (AdvSimd.IsSupported)
            {
                return AdvSimd.FusedMultiplyAdd(acc.AsSingle(), x.AsSingle(), y.AsSingle()).As<float, T>();
            }
            return Vector128.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }
        if (typeof(T) == typeof(double))
        {
            if (Fma.IsSupported)
            {
                return Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
            }
            if (AdvSimd.Arm64.IsSupported)
            {
                return AdvSimd.Arm64.FusedMultiplyAdd(acc.AsDouble(), x.AsDouble(), y.AsDouble()).As<double, T>();
            }
            return Vector128.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
        throw new NotSupportedException();
    }

    /// <inheritdoc cref="MulAdd{T}(Vector128{T}, Vector128{T}, Vector128{T})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MulAdd<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (!Fma.IsSupported && !AdvSimd.Arm64.IsSupported) // !HasFma, spelled out so the JIT folds it while inlining
        {
            return (x * y) + acc;
        }
        if (typeof(T) == typeof(float))
        {
            if (Fma.IsSupported)
            {
                return Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            }
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }
        if (typeof(T) == typeof(double))
        {
            if (Fma.IsSupported)
            {
                return Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
            }
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
        throw new NotSupportedException();
    }

    /// <inheritdoc cref="MulAdd{T}(Vector128{T}, Vector128{T}, Vector128{T})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MulAdd<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (!Fma.IsSupported && !AdvSimd.Arm64.IsSupported) // !HasFma, spelled out so the JIT folds it while inlining
        {
            return (x * y) + acc;
        }
        if (typeof(T) == typeof(float))
        {
            if (Avx512F.IsSupported)
            {
                return Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            }
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }
        if (typeof(T) == typeof(double))
        {
            if (Avx512F.IsSupported)
            {
                return Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
            }
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
        throw new NotSupportedException();
    }
}

/// <summary>
/// The AVX2/FMA micro-kernel: a 6 × (2 vectors) tile — 6×16 floats or 6×8 doubles — held in 12 ymm
/// accumulators.
/// </summary>
/// <remarks>
/// <para>
/// Register budget (x64 has 16 ymm registers without AVX-512): 12 accumulators c[r][v] (row r = 0…5,
/// vector v = 0…1, each holding W = 8 floats or 4 doubles of one row of C), 2 registers for the
/// current row of B (b0 = B[p, 0..W), b1 = B[p, W..2W)), 1 for the broadcast A[r, p] — 15 in all, so
/// nothing spills.
/// </para>
/// <para>
/// One step p (the loop body) is an outer product of a column of A and a row of B:
/// <code>
///   b0, b1 ← load B[p, 0..2W)                     2 vector loads
///   for r in 0..5:  x ← broadcast A[r, p]         6 broadcasts (vbroadcastss/sd from memory)
///                   c[r][0] = fma(x, b0, c[r][0])
///                   c[r][1] = fma(x, b1, c[r][1])  12 FMAs, 12 independent dependency chains
/// </code>
/// 12 chains cover the FMA latency (4 cycles) × throughput (2 per cycle) = 8 in flight on Zen 3/4 and
/// Intel cores, and 8 loads per 12 FMAs stay under the 2–3 loads per cycle the core can issue. Scalar
/// equivalent of lane j of c[r][v]: <c>acc = MathF.FusedMultiplyAdd(A[r,p], B[p, v·W + j], acc)</c>.
/// </para>
/// <para>
/// Tails: kc may be anything ≥ 0 (the loop simply runs kc times; there is no k-unrolling remainder
/// to fix up). Tiles with fewer than 6 rows or 2W columns never reach the kernel — the driver zero-pads
/// packed panels and writes edge tiles through a full-size scratch tile, so the kernel is branch-free.
/// </para>
/// </remarks>
internal readonly unsafe struct Kernel256<T> : IMicroKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    public static int MR => 6;

    public static int NR => 2 * Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, bool add)
    {
        nint r1 = rsA, r2 = 2 * rsA, r3 = 3 * rsA, r4 = 4 * rsA, r5 = 5 * rsA;
        var w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Simd.PrefetchTile(c, ldc, NR);
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var x = Vector256.Create(*a);
            c00 = Simd.MulAdd(b0, x, c00);
            c01 = Simd.MulAdd(b1, x, c01);
            x = Vector256.Create(a[r1]);
            c10 = Simd.MulAdd(b0, x, c10);
            c11 = Simd.MulAdd(b1, x, c11);
            x = Vector256.Create(a[r2]);
            c20 = Simd.MulAdd(b0, x, c20);
            c21 = Simd.MulAdd(b1, x, c21);
            x = Vector256.Create(a[r3]);
            c30 = Simd.MulAdd(b0, x, c30);
            c31 = Simd.MulAdd(b1, x, c31);
            x = Vector256.Create(a[r4]);
            c40 = Simd.MulAdd(b0, x, c40);
            c41 = Simd.MulAdd(b1, x, c41);
            x = Vector256.Create(a[r5]);
            c50 = Simd.MulAdd(b0, x, c50);
            c51 = Simd.MulAdd(b1, x, c51);
            a += csA;
            b += ldb;
        }
        // C = acc, or C + acc: the one rounding that joins this k-block to the previous ones.
        if (add)
        {
            c00 += Vector256.Load(c);
            c01 += Vector256.Load(c + w);
            c10 += Vector256.Load(c + ldc);
            c11 += Vector256.Load(c + ldc + w);
            c20 += Vector256.Load(c + (2 * ldc));
            c21 += Vector256.Load(c + (2 * ldc) + w);
            c30 += Vector256.Load(c + (3 * ldc));
            c31 += Vector256.Load(c + (3 * ldc) + w);
            c40 += Vector256.Load(c + (4 * ldc));
            c41 += Vector256.Load(c + (4 * ldc) + w);
            c50 += Vector256.Load(c + (5 * ldc));
            c51 += Vector256.Load(c + (5 * ldc) + w);
        }
        c00.Store(c);
        c01.Store(c + w);
        c10.Store(c + ldc);
        c11.Store(c + ldc + w);
        c20.Store(c + (2 * ldc));
        c21.Store(c + (2 * ldc) + w);
        c30.Store(c + (3 * ldc));
        c31.Store(c + (3 * ldc) + w);
        c40.Store(c + (4 * ldc));
        c41.Store(c + (4 * ldc) + w);
        c50.Store(c + (5 * ldc));
        c51.Store(c + (5 * ldc) + w);
    }
}

/// <summary>
/// The AVX-512 micro-kernel: the same 6 × (2 vectors) shape as <see cref="Kernel256{T}"/> on zmm
/// registers — 6×32 floats or 6×16 doubles per tile.
/// </summary>
/// <remarks>
/// 12 zmm accumulators + 2 for B + 1 broadcast = 15 of the 32 zmm registers. Each step is 2 loads,
/// 6 broadcasts and 12 FMAs of 16 floats / 8 doubles; scalar equivalent and tail handling exactly as
/// in <see cref="Kernel256{T}"/>. On cores that split 512-bit FMAs into two 256-bit halves (Zen 4)
/// the peak is the same as AVX2's, with half the instructions to issue; on cores with two 512-bit
/// FMA ports it doubles.
/// </remarks>
internal readonly unsafe struct Kernel512<T> : IMicroKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    public static int MR => 6;

    public static int NR => 2 * Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, bool add)
    {
        nint r1 = rsA, r2 = 2 * rsA, r3 = 3 * rsA, r4 = 4 * rsA, r5 = 5 * rsA;
        var w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Simd.PrefetchTile(c, ldc, NR);
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var x = Vector512.Create(*a);
            c00 = Simd.MulAdd(b0, x, c00);
            c01 = Simd.MulAdd(b1, x, c01);
            x = Vector512.Create(a[r1]);
            c10 = Simd.MulAdd(b0, x, c10);
            c11 = Simd.MulAdd(b1, x, c11);
            x = Vector512.Create(a[r2]);
            c20 = Simd.MulAdd(b0, x, c20);
            c21 = Simd.MulAdd(b1, x, c21);
            x = Vector512.Create(a[r3]);
            c30 = Simd.MulAdd(b0, x, c30);
            c31 = Simd.MulAdd(b1, x, c31);
            x = Vector512.Create(a[r4]);
            c40 = Simd.MulAdd(b0, x, c40);
            c41 = Simd.MulAdd(b1, x, c41);
            x = Vector512.Create(a[r5]);
            c50 = Simd.MulAdd(b0, x, c50);
            c51 = Simd.MulAdd(b1, x, c51);
            a += csA;
            b += ldb;
        }
        if (add)
        {
            c00 += Vector512.Load(c);
            c01 += Vector512.Load(c + w);
            c10 += Vector512.Load(c + ldc);
            c11 += Vector512.Load(c + ldc + w);
            c20 += Vector512.Load(c + (2 * ldc));
            c21 += Vector512.Load(c + (2 * ldc) + w);
            c30 += Vector512.Load(c + (3 * ldc));
            c31 += Vector512.Load(c + (3 * ldc) + w);
            c40 += Vector512.Load(c + (4 * ldc));
            c41 += Vector512.Load(c + (4 * ldc) + w);
            c50 += Vector512.Load(c + (5 * ldc));
            c51 += Vector512.Load(c + (5 * ldc) + w);
        }
        c00.Store(c);
        c01.Store(c + w);
        c10.Store(c + ldc);
        c11.Store(c + ldc + w);
        c20.Store(c + (2 * ldc));
        c21.Store(c + (2 * ldc) + w);
        c30.Store(c + (3 * ldc));
        c31.Store(c + (3 * ldc) + w);
        c40.Store(c + (4 * ldc));
        c41.Store(c + (4 * ldc) + w);
        c50.Store(c + (5 * ldc));
        c51.Store(c + (5 * ldc) + w);
    }
}

/// <summary>
/// The 128-bit micro-kernel (SSE, or AdvSIMD on Arm64): 6 × (2 vectors) = 6×8 floats or 6×4 doubles.
/// </summary>
/// <remarks>
/// 12 xmm accumulators + 2 + 1 = 15 of 16 registers (Arm64 has 32). With FMA (Arm64, or x86 with
/// AVX2 switched off but FMA kept) the steps are fused; on plain SSE they are a multiply then an add
/// (<see cref="Simd.HasFma"/>). Scalar equivalent and tails as in <see cref="Kernel256{T}"/>.
/// </remarks>
internal readonly unsafe struct Kernel128<T> : IMicroKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    public static int MR => 6;

    public static int NR => 2 * Vector128<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, bool add)
    {
        nint r1 = rsA, r2 = 2 * rsA, r3 = 3 * rsA, r4 = 4 * rsA, r5 = 5 * rsA;
        var w = Vector128<T>.Count;
        Vector128<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Simd.PrefetchTile(c, ldc, NR);
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + w);
            var x = Vector128.Create(*a);
            c00 = Simd.MulAdd(b0, x, c00);
            c01 = Simd.MulAdd(b1, x, c01);
            x = Vector128.Create(a[r1]);
            c10 = Simd.MulAdd(b0, x, c10);
            c11 = Simd.MulAdd(b1, x, c11);
            x = Vector128.Create(a[r2]);
            c20 = Simd.MulAdd(b0, x, c20);
            c21 = Simd.MulAdd(b1, x, c21);
            x = Vector128.Create(a[r3]);
            c30 = Simd.MulAdd(b0, x, c30);
            c31 = Simd.MulAdd(b1, x, c31);
            x = Vector128.Create(a[r4]);
            c40 = Simd.MulAdd(b0, x, c40);
            c41 = Simd.MulAdd(b1, x, c41);
            x = Vector128.Create(a[r5]);
            c50 = Simd.MulAdd(b0, x, c50);
            c51 = Simd.MulAdd(b1, x, c51);
            a += csA;
            b += ldb;
        }
        if (add)
        {
            c00 += Vector128.Load(c);
            c01 += Vector128.Load(c + w);
            c10 += Vector128.Load(c + ldc);
            c11 += Vector128.Load(c + ldc + w);
            c20 += Vector128.Load(c + (2 * ldc));
            c21 += Vector128.Load(c + (2 * ldc) + w);
            c30 += Vector128.Load(c + (3 * ldc));
            c31 += Vector128.Load(c + (3 * ldc) + w);
            c40 += Vector128.Load(c + (4 * ldc));
            c41 += Vector128.Load(c + (4 * ldc) + w);
            c50 += Vector128.Load(c + (5 * ldc));
            c51 += Vector128.Load(c + (5 * ldc) + w);
        }
        c00.Store(c);
        c01.Store(c + w);
        c10.Store(c + ldc);
        c11.Store(c + ldc + w);
        c20.Store(c + (2 * ldc));
        c21.Store(c + (2 * ldc) + w);
        c30.Store(c + (3 * ldc));
        c31.Store(c + (3 * ldc) + w);
        c40.Store(c + (4 * ldc));
        c41.Store(c + (4 * ldc) + w);
        c50.Store(c + (5 * ldc));
        c51.Store(c + (5 * ldc) + w);
    }
}

/// <summary>
/// The portable micro-kernel: a 4×4 tile of scalars (16 accumulators), for runtimes without SIMD
/// (<c>DOTNET_EnableHWIntrinsic=0</c>) and for types the vector kernels do not cover.
/// </summary>
/// <remarks>
/// It is the scalar equivalent the vector kernels are documented against, written out: each output
/// is its own <c>acc = MulAdd(A[r,p], B[p,j], acc)</c> chain.
/// </remarks>
internal readonly unsafe struct KernelScalar<T> : IMicroKernel<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    public static int MR => 4;

    public static int NR => 4;

    public static void Run(int kc, T* a, nint rsA, nint csA, T* b, nint ldb, T* c, nint ldc, bool add)
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero, c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero, c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        nint r1 = rsA, r2 = 2 * rsA, r3 = 3 * rsA;
        for (var p = 0; p < kc; p++)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            var x = a[0];
            c00 = Simd.MulAdd(b0, x, c00);
            c01 = Simd.MulAdd(b1, x, c01);
            c02 = Simd.MulAdd(x, b2, c02);
            c03 = Simd.MulAdd(x, b3, c03);
            x = a[r1];
            c10 = Simd.MulAdd(b0, x, c10);
            c11 = Simd.MulAdd(b1, x, c11);
            c12 = Simd.MulAdd(x, b2, c12);
            c13 = Simd.MulAdd(x, b3, c13);
            x = a[r2];
            c20 = Simd.MulAdd(b0, x, c20);
            c21 = Simd.MulAdd(b1, x, c21);
            c22 = Simd.MulAdd(x, b2, c22);
            c23 = Simd.MulAdd(x, b3, c23);
            x = a[r3];
            c30 = Simd.MulAdd(b0, x, c30);
            c31 = Simd.MulAdd(b1, x, c31);
            c32 = Simd.MulAdd(x, b2, c32);
            c33 = Simd.MulAdd(x, b3, c33);
            a += csA;
            b += ldb;
        }
        Row(c, c00, c01, c02, c03, add);
        Row(c + ldc, c10, c11, c12, c13, add);
        Row(c + (2 * ldc), c20, c21, c22, c23, add);
        Row(c + (3 * ldc), c30, c31, c32, c33, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(T* c, T x0, T x1, T x2, T x3, bool add)
    {
        if (add)
        {
            x0 += c[0];
            x1 += c[1];
            x2 += c[2];
            x3 += c[3];
        }
        c[0] = x0;
        c[1] = x1;
        c[2] = x2;
        c[3] = x3;
    }
}
