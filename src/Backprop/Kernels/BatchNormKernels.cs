using System.Numerics;
using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// Span kernels for batch normalisation over one channel's contiguous values: the sums its
/// statistics and gradients need, the normalisation itself and its input gradient.
/// </summary>
/// <remarks>
/// <para>
/// The loops run over <see cref="Vector{T}"/> lanes (element i always goes to lane i mod
/// <c>Vector&lt;T&gt;.Count</c>, whatever the span's address), then a scalar tail. A reduction keeps
/// one accumulator per lane, adds the lanes in lane order and then the tail, so a given length gives
/// the same bits on every call and every thread; without SIMD it is the plain left-to-right sum.
/// </para>
/// <para>
/// Element-wise kernels compute their formula in the stated order, multiplications and additions
/// separately (no fused multiply-add), so the vector and scalar paths give the same bits.
/// </para>
/// </remarks>
public static class BatchNormKernels
{
    /// <summary>Σ xᵢ.</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        var sum = T.Zero;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && x.Length >= Vector<T>.Count)
        {
            var lanes = MemoryMarshal.Cast<T, Vector<T>>(x);
            var acc = Vector<T>.Zero;
            foreach (var v in lanes)
            {
                acc += v;
            }
            sum = AddLanes(acc);
            i = lanes.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
        {
            sum += x[i];
        }
        return sum;
    }

    /// <summary>Σ (xᵢ − m)², the sum of squared deviations from <paramref name="mean"/> (two-pass variance).</summary>
    public static T SumSquaredDeviations<T>(ReadOnlySpan<T> x, T mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        var sum = T.Zero;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && x.Length >= Vector<T>.Count)
        {
            var lanes = MemoryMarshal.Cast<T, Vector<T>>(x);
            var m = new Vector<T>(mean);
            var acc = Vector<T>.Zero;
            foreach (var v in lanes)
            {
                var d = v - m;
                acc += d * d;
            }
            sum = AddLanes(acc);
            i = lanes.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
        {
            var d = x[i] - mean;
            sum += d * d;
        }
        return sum;
    }

    /// <summary>(Σ dyᵢ, Σ dyᵢ · (xᵢ − m)): the sums batch normalisation's backward pass needs.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static (T Sum, T Dot) SumAndDotDeviations<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, T mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(dy.Length, x.Length);
        var i = 0;
        T sum = T.Zero, dot = T.Zero;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && x.Length >= Vector<T>.Count)
        {
            var dys = MemoryMarshal.Cast<T, Vector<T>>(dy);
            var xs = MemoryMarshal.Cast<T, Vector<T>>(x);
            var m = new Vector<T>(mean);
            Vector<T> sumAcc = Vector<T>.Zero, dotAcc = Vector<T>.Zero;
            for (var k = 0; k < xs.Length; k++)
            {
                sumAcc += dys[k];
                dotAcc += dys[k] * (xs[k] - m);
            }
            sum = AddLanes(sumAcc);
            dot = AddLanes(dotAcc);
            i = xs.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
        {
            sum += dy[i];
            dot += dy[i] * (x[i] - mean);
        }
        return (sum, dot);
    }

    /// <summary>yᵢ = (xᵢ − m) · scale + shift: normalisation and the affine map in one pass (in place allowed).</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Normalize<T>(ReadOnlySpan<T> x, T mean, T scale, T shift, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x.Length, destination.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && x.Length >= Vector<T>.Count)
        {
            var xs = MemoryMarshal.Cast<T, Vector<T>>(x);
            var ys = MemoryMarshal.Cast<T, Vector<T>>(destination);
            Vector<T> m = new(mean), s = new(scale), b = new(shift);
            for (var k = 0; k < xs.Length; k++)
            {
                ys[k] = ((xs[k] - m) * s) + b;
            }
            i = xs.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
        {
            destination[i] = ((x[i] - mean) * scale) + shift;
        }
    }

    /// <summary>
    /// dxᵢ += a · dyᵢ + b · (xᵢ − m) + c: the input gradient of batch normalisation, whose coefficients
    /// are per channel (see <c>BatchNormOp</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void AddInputGradient<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, T mean, T a, T b, T c, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(dy.Length, x.Length);
        CheckLengths(dx.Length, x.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && x.Length >= Vector<T>.Count)
        {
            var dys = MemoryMarshal.Cast<T, Vector<T>>(dy);
            var xs = MemoryMarshal.Cast<T, Vector<T>>(x);
            var dxs = MemoryMarshal.Cast<T, Vector<T>>(dx);
            Vector<T> m = new(mean), va = new(a), vb = new(b), vc = new(c);
            for (var k = 0; k < xs.Length; k++)
            {
                dxs[k] += (va * dys[k]) + (vb * (xs[k] - m)) + vc;
            }
            i = xs.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
        {
            dx[i] += (a * dy[i]) + (b * (x[i] - mean)) + c;
        }
    }

    private static T AddLanes<T>(Vector<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // NOTE: explicitly in lane order, not Vector.Sum, whose order is the JIT's choice.
        var sum = v[0];
        for (var lane = 1; lane < Vector<T>.Count; lane++)
        {
            sum += v[lane];
        }
        return sum;
    }

    private static void CheckLengths(int a, int b)
    {
        if (a != b)
        {
            throw new ArgumentException($"The spans must have the same length; they have {a} and {b}.");
        }
    }
}
