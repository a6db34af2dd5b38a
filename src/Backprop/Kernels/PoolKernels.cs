using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The sizes of a 2-D pooling: planes (batch × channels) of H×W, windows of K×K moved by a stride,
/// no padding; the output is OH×OW per plane.
/// </summary>
internal readonly record struct PoolGeometry(int Planes, int H, int W, int K, int Stride)
{
    /// <summary>Output height: ⌊(H − K)/stride⌋ + 1.</summary>
    public int OH => ((H - K) / Stride) + 1;

    /// <summary>Output width: ⌊(W − K)/stride⌋ + 1.</summary>
    public int OW => ((W - K) / Stride) + 1;

    /// <summary>Elements of the input.</summary>
    public int InputLength => Planes * H * W;

    /// <summary>Elements of the output.</summary>
    public int OutputLength => Planes * OH * OW;
}

/// <summary>
/// Span kernels for pooling over planes of H×W: max and average over K×K windows moved by a stride,
/// and the mean of each whole plane (global average pooling), with their derivatives.
/// </summary>
/// <remarks>
/// Max pooling with 2×2 windows and stride 2 (the common case) runs on vectors of outputs in float
/// on x86; other windows, and average pooling, are scalar loops. Global average pooling sums each plane with
/// <see cref="TensorPrimitives.Sum{T}(ReadOnlySpan{T})"/> (SIMD; its order of additions depends on
/// the instruction set, as the other TensorPrimitives reductions do).
/// </remarks>
internal static class PoolKernels
{
    /// <summary>
    /// y = the largest element of each window (NaN when the window holds one); <paramref name="argmax"/>
    /// receives the input index of the element chosen (the first of equals).
    /// </summary>
    public static void MaxForward<T>(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y, Span<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, x.Length, y.Length);
        if (argmax.Length < g.OutputLength)
        {
            throw new ArgumentException($"The index span holds {argmax.Length} elements; the output has {g.OutputLength}.", nameof(argmax));
        }
        int oh = g.OH, ow = g.OW, plane = g.H * g.W;
        if (g.K == 2 && g.Stride == 2)
        {
            MaxForward2x2(g, x, y, argmax);
            return;
        }
        var o = 0;
        for (var p = 0; p < g.Planes; p++)
        {
            var start = p * plane;
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++, o++)
                {
                    var first = start + (oy * g.Stride * g.W) + (ox * g.Stride);
                    var best = x[first];
                    var at = first;
                    for (var i = 0; i < g.K && !T.IsNaN(best); i++)
                    {
                        var row = first + (i * g.W);
                        for (var j = 0; j < g.K; j++)
                        {
                            var v = x[row + j];
                            if (v > best || T.IsNaN(v))
                            {
                                best = v;
                                at = row + j;
                                if (T.IsNaN(v))
                                {
                                    break;
                                }
                            }
                        }
                    }
                    y[o] = best;
                    argmax[o] = at;
                }
            }
        }
    }

    // The common 2×2 window with stride 2: the same choices as the general loop (the first of equal
    // maxima in row order; a NaN wins), unrolled over the window's four elements. In float on x86 the
    // rows go 8 (AVX2) or 4 (SSE) outputs at a time, branch-free (see MaxRows2x2); a comparison
    // chooses, nothing is computed, so every instruction set gives the same outputs and indices.
    private static void MaxForward2x2<T>(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y, Span<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OH, ow = g.OW, w = g.W, plane = g.H * g.W;
        if (typeof(T) == typeof(float) && ow >= 4 && Sse.IsSupported)
        {
            MaxRows2x2(g, MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), argmax);
            return;
        }
        var o = 0;
        for (var p = 0; p < g.Planes; p++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                var top = (p * plane) + (2 * oy * w);
                var rowTop = x.Slice(top, 2 * ow);
                var rowBottom = x.Slice(top + w, 2 * ow);
                var yRow = y.Slice(o, ow);
                var aRow = argmax.Slice(o, ow);
                for (var ox = 0; ox < ow; ox++)
                {
                    var j = 2 * ox;
                    T best = rowTop[j], v;
                    var at = j;
                    if (!T.IsNaN(best))
                    {
                        if ((v = rowTop[j + 1]) > best || T.IsNaN(v))
                        {
                            (best, at) = (v, j + 1);
                        }
                        if (!T.IsNaN(best) && ((v = rowBottom[j]) > best || T.IsNaN(v)))
                        {
                            (best, at) = (v, w + j);
                        }
                        if (!T.IsNaN(best) && ((v = rowBottom[j + 1]) > best || T.IsNaN(v)))
                        {
                            (best, at) = (v, w + j + 1);
                        }
                    }
                    yRow[ox] = best;
                    aRow[ox] = top + at;
                }
                o += ow;
            }
        }
    }

    // Float 2×2/2 max pooling by vectors of outputs. Per output the window's elements t0, t1 (top row)
    // and b0, b1 (bottom row) are met in that order, as in the scalar loop: a later element replaces
    // the best so far when the best is not NaN and the element is larger or NaN. The even and odd
    // columns of each row are separated with shuffles; a row's last vector may overlap the one before
    // it (it writes the same values again), so every row of at least 4 outputs is vector work only.
    private static void MaxRows2x2(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        int oh = g.OH, ow = g.OW, w = g.W, plane = g.H * g.W;
        var width = Avx2.IsSupported && ow >= 8 ? 8 : 4;
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var y0 = ref MemoryMarshal.GetReference(y);
        ref var a0 = ref MemoryMarshal.GetReference(argmax);
        var o = 0;
        for (var p = 0; p < g.Planes; p++)
        {
            for (var oy = 0; oy < oh; oy++, o += ow)
            {
                var top = (p * plane) + (2 * oy * w);
                for (var ox = 0; ; ox += width)
                {
                    ox = Math.Min(ox, ow - width);
                    var at = top + (2 * ox);
                    if (width == 8)
                    {
                        Max8(ref Unsafe.Add(ref x0, at), w, ref Unsafe.Add(ref y0, o + ox), ref Unsafe.Add(ref a0, o + ox), at);
                    }
                    else
                    {
                        Max4(ref Unsafe.Add(ref x0, at), w, ref Unsafe.Add(ref y0, o + ox), ref Unsafe.Add(ref a0, o + ox), at);
                    }
                    if (ox == ow - width)
                    {
                        break;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Max8(ref float top, int w, ref float y, ref int argmax, int at)
    {
        ref var bottom = ref Unsafe.Add(ref top, w);
        var (t0, t1) = Unzip(Vector256.LoadUnsafe(ref top), Vector256.LoadUnsafe(ref top, 8));
        var (b0, b1) = Unzip(Vector256.LoadUnsafe(ref bottom), Vector256.LoadUnsafe(ref bottom, 8));
        var best = t0;
        var offset = Vector256<int>.Zero;
        Take(ref best, ref offset, t1, 1);
        Take(ref best, ref offset, b0, w);
        Take(ref best, ref offset, b1, w + 1);
        best.StoreUnsafe(ref y);
        (Vector256.Create(at) + Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14) + offset).StoreUnsafe(ref argmax);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Max4(ref float top, int w, ref float y, ref int argmax, int at)
    {
        ref var bottom = ref Unsafe.Add(ref top, w);
        var (t0, t1) = Unzip(Vector128.LoadUnsafe(ref top), Vector128.LoadUnsafe(ref top, 4));
        var (b0, b1) = Unzip(Vector128.LoadUnsafe(ref bottom), Vector128.LoadUnsafe(ref bottom, 4));
        var best = t0;
        var offset = Vector128<int>.Zero;
        Take(ref best, ref offset, t1, 1);
        Take(ref best, ref offset, b0, w);
        Take(ref best, ref offset, b1, w + 1);
        best.StoreUnsafe(ref y);
        (Vector128.Create(at) + Vector128.Create(0, 2, 4, 6) + offset).StoreUnsafe(ref argmax);
    }

    // best, offset ← v, o where the best so far is not NaN and v is larger or NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(ref Vector256<float> best, ref Vector256<int> offset, Vector256<float> v, int o)
    {
        var take = Vector256.Equals(best, best) & (Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v));
        best = Vector256.ConditionalSelect(take, v, best);
        offset = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(o), offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(ref Vector128<float> best, ref Vector128<int> offset, Vector128<float> v, int o)
    {
        var take = Vector128.Equals(best, best) & (Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v));
        best = Vector128.ConditionalSelect(take, v, best);
        offset = Vector128.ConditionalSelect(take.AsInt32(), Vector128.Create(o), offset);
    }

    // (x0 x2 … x14, x1 x3 … x15) from a = x0…x7, b = x8…x15: shufps works within 128-bit halves,
    // then the 64-bit pairs are put in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Even, Vector256<float> Odd) Unzip(Vector256<float> a, Vector256<float> b)
    {
        const byte order = 0b11_01_10_00;
        var even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), order).AsSingle();
        var odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), order).AsSingle();
        return (even, odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> Even, Vector128<float> Odd) Unzip(Vector128<float> a, Vector128<float> b)
        => (Sse.Shuffle(a, b, 0b10_00_10_00), Sse.Shuffle(a, b, 0b11_01_11_01));

    /// <summary>dx[argmax[o]] += dy[o]: each output's gradient goes to the element it took.</summary>
    public static void MaxBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<int> argmax, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (argmax.Length < dy.Length)
        {
            throw new ArgumentException($"The index span holds {argmax.Length} elements; the gradient has {dy.Length}.", nameof(argmax));
        }
        for (var o = 0; o < dy.Length; o++)
        {
            dx[argmax[o]] += dy[o];
        }
    }

    /// <summary>y = (1/K²) Σ over each window (the sum taken row by row, left to right).</summary>
    public static void AverageForward<T>(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, x.Length, y.Length);
        int oh = g.OH, ow = g.OW, plane = g.H * g.W;
        var scale = T.One / T.CreateChecked(g.K * g.K);
        var o = 0;
        for (var p = 0; p < g.Planes; p++)
        {
            var start = p * plane;
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++, o++)
                {
                    var first = start + (oy * g.Stride * g.W) + (ox * g.Stride);
                    var sum = T.Zero;
                    for (var i = 0; i < g.K; i++)
                    {
                        var row = first + (i * g.W);
                        for (var j = 0; j < g.K; j++)
                        {
                            sum += x[row + j];
                        }
                    }
                    y[o] = sum * scale;
                }
            }
        }
    }

    /// <summary>dx += dy/K² over each output's window (windows in output order).</summary>
    public static void AverageBackward<T>(in PoolGeometry g, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, dx.Length, dy.Length);
        int oh = g.OH, ow = g.OW, plane = g.H * g.W;
        var scale = T.One / T.CreateChecked(g.K * g.K);
        var o = 0;
        for (var p = 0; p < g.Planes; p++)
        {
            var start = p * plane;
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++, o++)
                {
                    var first = start + (oy * g.Stride * g.W) + (ox * g.Stride);
                    var share = dy[o] * scale;
                    for (var i = 0; i < g.K; i++)
                    {
                        var row = first + (i * g.W);
                        for (var j = 0; j < g.K; j++)
                        {
                            dx[row + j] += share;
                        }
                    }
                }
            }
        }
    }

    /// <summary>y[p] = (1/n) Σ x[p·n … p·n + n − 1]: the mean of each plane of <paramref name="planeLength"/> elements.</summary>
    public static void GlobalAverageForward<T>(ReadOnlySpan<T> x, int planeLength, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckPlanes(x.Length, planeLength, y.Length);
        var scale = T.One / T.CreateChecked(planeLength);
        for (var p = 0; p < y.Length; p++)
        {
            y[p] = TensorPrimitives.Sum(x.Slice(p * planeLength, planeLength)) * scale;
        }
    }

    /// <summary>dx[p·n + i] += dy[p]/n for every element i of plane p.</summary>
    public static void GlobalAverageBackward<T>(ReadOnlySpan<T> dy, int planeLength, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckPlanes(dx.Length, planeLength, dy.Length);
        var scale = T.One / T.CreateChecked(planeLength);
        for (var p = 0; p < dy.Length; p++)
        {
            var plane = dx.Slice(p * planeLength, planeLength);
            TensorPrimitives.Add(plane, dy[p] * scale, plane);
        }
    }

    private static void Check(in PoolGeometry g, int inputLength, int outputLength)
    {
        if (g.K < 1 || g.Stride < 1 || g.K > g.H || g.K > g.W)
        {
            throw new ArgumentException($"A {g.K}×{g.K} window with stride {g.Stride} does not fit planes of {g.H}×{g.W}.");
        }
        if (inputLength < g.InputLength || outputLength < g.OutputLength)
        {
            throw new ArgumentException($"Spans too short for {g.Planes} planes of {g.H}×{g.W} pooled to {g.OH}×{g.OW}.");
        }
    }

    private static void CheckPlanes(int inputLength, int planeLength, int planes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(planeLength);
        if (inputLength < (long)planes * planeLength)
        {
            throw new ArgumentException($"Spans too short for {planes} planes of {planeLength} elements.");
        }
    }
}
