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
/// The loop keeps 12 accumulators of the widest vector the GEMM itself uses (Vector512, Vector256 or
/// Vector128; scalars without SIMD), each updated by acc = acc·x + y, so 12 FMAs are in flight —
/// more than latency × issue width on current cores. One FMA on a vector of W lanes counts as 2·W
/// floating-point operations. Run it in the same process and moment as the benchmark it is compared
/// with: clocks and neighbours on shared machines drift.
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
                iterations = (long)(iterations * milliseconds / Math.Max(1e-3, watch.Elapsed.TotalMilliseconds));
                break;
            }
            iterations *= 4;
        }
        iterations = Math.Max(iterations, 1);
        double seconds;
        if (threads == 1)
        {
            var watch = Stopwatch.StartNew();
            Loop<T>(iterations);
            seconds = watch.Elapsed.TotalSeconds;
        }
        else
        {
            using var start = new Barrier(threads + 1);
            void Work()
            {
                start.SignalAndWait();
                Loop<T>(iterations);
            }
            var workers = new Thread[threads];
            for (var t = 0; t < threads; t++)
            {
                workers[t] = new Thread(Work) { IsBackground = true };
                workers[t].Start();
            }
            start.SignalAndWait();
            var watch = Stopwatch.StartNew();
            foreach (var w in workers)
            {
                w.Join();
            }
            seconds = watch.Elapsed.TotalSeconds;
        }
        return FlopsPerIteration<T>() * iterations * threads / seconds / 1e9;
    }

    /// <summary>Floating-point operations in one iteration of <see cref="Loop{T}"/>: 12 FMAs of the vector width.</summary>
    private static double FlopsPerIteration<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => 12 * 2 * (Simd.Best switch
        {
            GemmKernel.Vector512 => Vector512<T>.Count,
            GemmKernel.Vector256 => Vector256<T>.Count,
            GemmKernel.Vector128 => Vector128<T>.Count,
            _ => 1,
        });

    /// <summary>12 independent FMA chains, <paramref name="iterations"/> steps each; returns a sum so nothing is dead code.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static T Loop<T>(long iterations) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // x slightly below 1 and y small keep every accumulator bounded (it tends to y / (1 − x)).
        var x = T.CreateTruncating(0.999999);
        var y = T.CreateTruncating(1e-6);
        switch (Simd.Best)
        {
            case GemmKernel.Vector512:
                {
                    Vector512<T> vx = Vector512.Create(x), vy = Vector512.Create(y);
                    Vector512<T> a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
                    for (var i = 0L; i < iterations; i++)
                    {
                        a0 = Simd.MulAdd(a0, vx, vy);
                        a1 = Simd.MulAdd(a1, vx, vy);
                        a2 = Simd.MulAdd(a2, vx, vy);
                        a3 = Simd.MulAdd(a3, vx, vy);
                        a4 = Simd.MulAdd(a4, vx, vy);
                        a5 = Simd.MulAdd(a5, vx, vy);
                        a6 = Simd.MulAdd(a6, vx, vy);
                        a7 = Simd.MulAdd(a7, vx, vy);
                        a8 = Simd.MulAdd(a8, vx, vy);
                        a9 = Simd.MulAdd(a9, vx, vy);
                        a10 = Simd.MulAdd(a10, vx, vy);
                        a11 = Simd.MulAdd(a11, vx, vy);
                    }
                    return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
                }
            case GemmKernel.Vector256:
                {
                    Vector256<T> vx = Vector256.Create(x), vy = Vector256.Create(y);
                    Vector256<T> a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
                    for (var i = 0L; i < iterations; i++)
                    {
                        a0 = Simd.MulAdd(a0, vx, vy);
                        a1 = Simd.MulAdd(a1, vx, vy);
                        a2 = Simd.MulAdd(a2, vx, vy);
                        a3 = Simd.MulAdd(a3, vx, vy);
                        a4 = Simd.MulAdd(a4, vx, vy);
                        a5 = Simd.MulAdd(a5, vx, vy);
                        a6 = Simd.MulAdd(a6, vx, vy);
                        a7 = Simd.MulAdd(a7, vx, vy);
                        a8 = Simd.MulAdd(a8, vx, vy);
                        a9 = Simd.MulAdd(a9, vx, vy);
                        a10 = Simd.MulAdd(a10, vx, vy);
                        a11 = Simd.MulAdd(a11, vx, vy);
                    }
                    return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
                }
            case GemmKernel.Vector128:
                {
                    Vector128<T> vx = Vector128.Create(x), vy = Vector128.Create(y);
                    Vector128<T> a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
                    for (var i = 0L; i < iterations; i++)
                    {
                        a0 = Simd.MulAdd(a0, vx, vy);
                        a1 = Simd.MulAdd(a1, vx, vy);
                        a2 = Simd.MulAdd(a2, vx, vy);
                        a3 = Simd.MulAdd(a3, vx, vy);
                        a4 = Simd.MulAdd(a4, vx, vy);
                        a5 = Simd.MulAdd(a5, vx, vy);
                        a6 = Simd.MulAdd(a6, vx, vy);
                        a7 = Simd.MulAdd(a7, vx, vy);
                        a8 = Simd.MulAdd(a8, vx, vy);
                        a9 = Simd.MulAdd(a9, vx, vy);
                        a10 = Simd.MulAdd(a10, vx, vy);
                        a11 = Simd.MulAdd(a11, vx, vy);
                    }
                    return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
                }
            default:
                {
                    T a0 = y, a1 = y, a2 = y, a3 = y, a4 = y, a5 = y, a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
                    for (var i = 0L; i < iterations; i++)
                    {
                        a0 = Simd.MulAdd(a0, x, y);
                        a1 = Simd.MulAdd(a1, x, y);
                        a2 = Simd.MulAdd(a2, x, y);
                        a3 = Simd.MulAdd(a3, x, y);
                        a4 = Simd.MulAdd(a4, x, y);
                        a5 = Simd.MulAdd(a5, x, y);
                        a6 = Simd.MulAdd(a6, x, y);
                        a7 = Simd.MulAdd(a7, x, y);
                        a8 = Simd.MulAdd(a8, x, y);
                        a9 = Simd.MulAdd(a9, x, y);
                        a10 = Simd.MulAdd(a10, x, y);
                        a11 = Simd.MulAdd(a11, x, y);
                    }
                    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
                }
        }
    }
}
