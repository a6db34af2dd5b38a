using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The machine's measured float multiply-add throughput: the ceiling any float kernel (GEMM above all)
/// is judged against.
/// </summary>
/// <remarks>
/// Each thread runs twelve independent chains a = a·m + c on 8-lane float vectors (Vector256 fused
/// multiply-add): enough chains to cover the FMA latency on two pipes, so the loop is bound by
/// throughput alone. Twelve chains × 8 lanes × 2 FLOP per iteration. The same loop as the TorchSharp
/// reference benchmark's "peak", so the two are comparable.
/// </remarks>
public static class FmaPeak
{
    /// <summary>FLOP per loop iteration: 12 chains × 8 lanes × 2 (multiply and add).</summary>
    public const int FlopPerIteration = 12 * 8 * 2;

    /// <summary>
    /// Runs the loop for <paramref name="iterations"/> iterations on each of <paramref name="threads"/>
    /// threads at once and returns the total GFLOP/s (wall time from the first start to the last finish).
    /// </summary>
    public static double Measure(int threads, long iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        var sink = new float[threads];
        var workers = new Thread[threads];
        for (var t = 0; t < threads; t++)
        {
            var index = t;
            workers[t] = new Thread(() => sink[index] = Loop(iterations, 1f + index)) { IsBackground = true };
        }
        var start = Stopwatch.GetTimestamp();
        foreach (var w in workers)
        {
            w.Start();
        }
        foreach (var w in workers)
        {
            w.Join();
        }
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        // NOTE: the results are kept (in sink) so that the loop cannot be optimised away.
        GC.KeepAlive(sink);
        return threads * (double)iterations * FlopPerIteration / seconds / 1e9;
    }

    private static float Loop(long iterations, float seed)
    {
        var m = Vector256.Create(0.99999f);
        var c = Vector256.Create(1e-6f);
        Vector256<float> a0 = Vector256.Create(seed), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c,
            a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        var total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(total);
    }
}
