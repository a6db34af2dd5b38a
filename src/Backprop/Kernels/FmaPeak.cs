using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Measures this machine's multiply-add peak: a loop of independent fused multiply-adds on registers,
/// with no memory traffic — the ceiling a GEMM kernel is judged against.
/// </summary>
/// <remarks>
/// The loop keeps 12 accumulators of the widest hardware-accelerated vector (Vector512, Vector256 or
/// Vector128), each updated by acc = acc·x + y, so 12 FMAs are in flight — more than latency × issue
/// width on current cores. One FMA on a vector of W lanes counts as 2·W floating-point operations.
/// Run it in the same process and moment as the benchmark it is compared with: clocks and neighbours
/// on shared machines drift.
/// NOTE: the GEMM work of issue 5 has a FmaPeak with this same API, measured on the GEMM's own vector
/// width; when both are merged, keep that one.
/// </remarks>
public static class FmaPeak
{
    /// <summary>
    /// GFLOP/s of the FMA loop on <paramref name="threads"/> threads at once (1 = one core), for float
    /// or double, timed over about <paramref name="milliseconds"/> ms.
    /// </summary>
    public static double Measure<T>(int threads = 1, int milliseconds = 50) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, 1);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"FmaPeak measures float and double, not {typeof(T).Name}.");
        }
        // Calibrate the iteration count on one thread (the first call also compiles the loop).
        long iterations = 1 << 16;
        while (true)
        {
            var watch = Stopwatch.StartNew();
            Loop<T>(iterations);
            if (watch.Elapsed.TotalMilliseconds >= milliseconds / 4.0 || iterations >= 1L << 40)
            {
                iterations = Math.Max(1, (long)(iterations * milliseconds / Math.Max(1e-3, watch.Elapsed.TotalMilliseconds)));
                break;
            }
            iterations *= 4;
        }
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (var t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                Loop<T>(iterations);
            })
            { IsBackground = true };
            workers[t].Start();
        }
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        foreach (var w in workers)
        {
            w.Join();
        }
        return FlopsPerIteration<T>() * iterations * threads / clock.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>12 FMAs of the vector width per iteration, 2 operations each.</summary>
    private static double FlopsPerIteration<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => 12 * 2 * (Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256.IsHardwareAccelerated ? Vector256<T>.Count : Vector128.IsHardwareAccelerated ? Vector128<T>.Count : 1);

    /// <summary>12 independent FMA chains, <paramref name="iterations"/> steps each; returns a sum so nothing is dead code.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static T Loop<T>(long iterations) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // x slightly below 1 and y small keep every accumulator bounded (it tends to y / (1 − x)).
        var x = T.CreateTruncating(0.999999);
        var y = T.CreateTruncating(1e-6);
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<T> vx = Vector512.Create(x), vy = Vector512.Create(y);
            Vector512<T> a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
            for (var i = 0L; i < iterations; i++)
            {
                a0 = MulAdd(a0, vx, vy);
                a1 = MulAdd(a1, vx, vy);
                a2 = MulAdd(a2, vx, vy);
                a3 = MulAdd(a3, vx, vy);
                a4 = MulAdd(a4, vx, vy);
                a5 = MulAdd(a5, vx, vy);
                a6 = MulAdd(a6, vx, vy);
                a7 = MulAdd(a7, vx, vy);
                a8 = MulAdd(a8, vx, vy);
                a9 = MulAdd(a9, vx, vy);
                a10 = MulAdd(a10, vx, vy);
                a11 = MulAdd(a11, vx, vy);
            }
            return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> vx = Vector256.Create(x), vy = Vector256.Create(y);
            Vector256<T> a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
            for (var i = 0L; i < iterations; i++)
            {
                a0 = MulAdd(a0, vx, vy);
                a1 = MulAdd(a1, vx, vy);
                a2 = MulAdd(a2, vx, vy);
                a3 = MulAdd(a3, vx, vy);
                a4 = MulAdd(a4, vx, vy);
                a5 = MulAdd(a5, vx, vy);
                a6 = MulAdd(a6, vx, vy);
                a7 = MulAdd(a7, vx, vy);
                a8 = MulAdd(a8, vx, vy);
                a9 = MulAdd(a9, vx, vy);
                a10 = MulAdd(a10, vx, vy);
                a11 = MulAdd(a11, vx, vy);
            }
            return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<T> vx = Vector128.Create(x), vy = Vector128.Create(y);
            Vector128<T> a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
            for (var i = 0L; i < iterations; i++)
            {
                a0 = MulAdd(a0, vx, vy);
                a1 = MulAdd(a1, vx, vy);
                a2 = MulAdd(a2, vx, vy);
                a3 = MulAdd(a3, vx, vy);
                a4 = MulAdd(a4, vx, vy);
                a5 = MulAdd(a5, vx, vy);
                a6 = MulAdd(a6, vx, vy);
                a7 = MulAdd(a7, vx, vy);
                a8 = MulAdd(a8, vx, vy);
                a9 = MulAdd(a9, vx, vy);
                a10 = MulAdd(a10, vx, vy);
                a11 = MulAdd(a11, vx, vy);
            }
            return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
        T s0 = y, s1 = y, s2 = y, s3 = y, s4 = y, s5 = y, s6 = y, s7 = y, s8 = y, s9 = y, s10 = y, s11 = y;
        for (var i = 0L; i < iterations; i++)
        {
            s0 = T.FusedMultiplyAdd(s0, x, y);
            s1 = T.FusedMultiplyAdd(s1, x, y);
            s2 = T.FusedMultiplyAdd(s2, x, y);
            s3 = T.FusedMultiplyAdd(s3, x, y);
            s4 = T.FusedMultiplyAdd(s4, x, y);
            s5 = T.FusedMultiplyAdd(s5, x, y);
            s6 = T.FusedMultiplyAdd(s6, x, y);
            s7 = T.FusedMultiplyAdd(s7, x, y);
            s8 = T.FusedMultiplyAdd(s8, x, y);
            s9 = T.FusedMultiplyAdd(s9, x, y);
            s10 = T.FusedMultiplyAdd(s10, x, y);
            s11 = T.FusedMultiplyAdd(s11, x, y);
        }
        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11;
    }

    // a·b + c in one rounding; the typeof tests fold away when the JIT specialises T.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MulAdd<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    // a·b + c in one rounding; the typeof tests fold away when the JIT specialises T.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MulAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    // a·b + c in one rounding; the typeof tests fold away when the JIT specialises T.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> MulAdd<T>(Vector128<T> a, Vector128<T> b, Vector128<T> c) where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? Vector128.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector128.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
}
