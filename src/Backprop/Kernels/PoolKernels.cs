using System.Numerics;
using System.Numerics.Tensors;

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
/// Max and average pooling are scalar loops: a 2×2 window has too few elements to fill a vector, and
/// the loops are a fraction of a convolution's cost. Global average pooling sums each plane with
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
    // maxima in row order; a NaN wins), unrolled over the window's four elements.
    private static void MaxForward2x2<T>(in PoolGeometry g, ReadOnlySpan<T> x, Span<T> y, Span<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OH, ow = g.OW, w = g.W, plane = g.H * g.W;
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
