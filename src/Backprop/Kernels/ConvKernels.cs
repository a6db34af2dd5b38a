using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>
/// The sizes of a 2-D convolution of one image: C channels of H×W, kernels of KH×KW, a stride and
/// zero padding on every side; the output is OH×OW per output channel.
/// </summary>
internal readonly record struct ConvGeometry(int C, int H, int W, int KH, int KW, int Stride, int Pad)
{
    /// <summary>Output height: ⌊(H + 2·pad − KH)/stride⌋ + 1.</summary>
    public int OH => ((H + (2 * Pad) - KH) / Stride) + 1;

    /// <summary>Output width: ⌊(W + 2·pad − KW)/stride⌋ + 1.</summary>
    public int OW => ((W + (2 * Pad) - KW) / Stride) + 1;

    /// <summary>Rows of the column matrix: one per (channel, kernel row, kernel column).</summary>
    public int PatchLength => C * KH * KW;

    /// <summary>Columns of the column matrix: one per output position.</summary>
    public int Positions => OH * OW;

    /// <summary>Elements of one input image.</summary>
    public int ImageLength => C * H * W;
}

/// <summary>
/// Convolution as a matrix product: <see cref="Im2Col{T}"/> lays out every receptive field of an
/// image as a column, so that the convolution of all output channels is one GEMM,
/// W[O, C·KH·KW] · col[C·KH·KW, OH·OW]; <see cref="Col2Im{T}"/> sends gradients of the columns back
/// to the image.
/// </summary>
/// <remarks>
/// The column matrix is row-major with row r = (c·KH + i)·KW + j and column q = oy·OW + ox:
/// col[r, q] = x[c, oy·s − p + i, ox·s − p + j], or 0 where that falls in the padding. Each row is
/// therefore a strided copy of one image channel, and with stride 1 a contiguous run per output row
/// (one span copy between zero edges). Pure copies: no arithmetic in the forward direction, and the
/// backward direction adds each column element to the one pixel it came from, rows in order, so the
/// bits do not depend on the instruction set.
/// </remarks>
internal static class ConvKernels
{
    /// <summary>col[r, q] = x[c, oy·s − p + i, ox·s − p + j] (0 in the padding), for one image.</summary>
    public static void Im2Col<T>(in ConvGeometry g, ReadOnlySpan<T> image, Span<T> col) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, image.Length, col.Length);
        int oh = g.OH, ow = g.OW, positions = oh * ow;
        for (var c = 0; c < g.C; c++)
        {
            var plane = image.Slice(c * g.H * g.W, g.H * g.W);
            for (var i = 0; i < g.KH; i++)
            {
                for (var j = 0; j < g.KW; j++)
                {
                    var row = col.Slice((((c * g.KH) + i) * g.KW + j) * positions, positions);
                    // Output columns whose input column ox·s − p + j lies inside the image: [x0, x1).
                    var (x0, x1) = Inside(j - g.Pad, g.Stride, g.W, ow);
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var dst = row.Slice(oy * ow, ow);
                        var y = (oy * g.Stride) - g.Pad + i;
                        if ((uint)y >= (uint)g.H || x0 >= x1)
                        {
                            dst.Clear();
                            continue;
                        }
                        dst[..x0].Clear();
                        dst[x1..].Clear();
                        var src = plane.Slice(y * g.W, g.W);
                        var x = (x0 * g.Stride) - g.Pad + j;
                        if (g.Stride == 1)
                        {
                            src.Slice(x, x1 - x0).CopyTo(dst[x0..x1]);
                        }
                        else
                        {
                            for (var ox = x0; ox < x1; ox++, x += g.Stride)
                            {
                                dst[ox] = src[x];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col{T}"/>: x[c, oy·s − p + i, ox·s − p + j] += col[r, q] for every
    /// element of the column matrix that came from the image (padding elements are dropped).
    /// </summary>
    public static void Col2Im<T>(in ConvGeometry g, ReadOnlySpan<T> col, Span<T> image) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, image.Length, col.Length);
        int oh = g.OH, ow = g.OW, positions = oh * ow;
        for (var c = 0; c < g.C; c++)
        {
            var plane = image.Slice(c * g.H * g.W, g.H * g.W);
            for (var i = 0; i < g.KH; i++)
            {
                for (var j = 0; j < g.KW; j++)
                {
                    var row = col.Slice((((c * g.KH) + i) * g.KW + j) * positions, positions);
                    var (x0, x1) = Inside(j - g.Pad, g.Stride, g.W, ow);
                    if (x0 >= x1)
                    {
                        continue;
                    }
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var y = (oy * g.Stride) - g.Pad + i;
                        if ((uint)y >= (uint)g.H)
                        {
                            continue;
                        }
                        var src = row.Slice(oy * ow, ow);
                        var dst = plane.Slice(y * g.W, g.W);
                        var x = (x0 * g.Stride) - g.Pad + j;
                        if (g.Stride == 1)
                        {
                            // One addition per element either way: the vector form gives the scalar bits.
                            var target = dst.Slice(x, x1 - x0);
                            TensorPrimitives.Add(target, src[x0..x1], target);
                            continue;
                        }
                        for (var ox = x0; ox < x1; ox++, x += g.Stride)
                        {
                            dst[x] += src[ox];
                        }
                    }
                }
            }
        }
    }

    /// <summary>The output columns [first, last) for which offset + ox·stride lies in [0, width).</summary>
    private static (int First, int Last) Inside(int offset, int stride, int width, int outputs)
    {
        // offset + ox·s ≥ 0  ⇔  ox ≥ ⌈−offset/s⌉;  offset + ox·s ≤ width − 1  ⇔  ox ≤ ⌊(width − 1 − offset)/s⌋
        var first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        var last = width - 1 - offset < 0 ? 0 : Math.Min(outputs, ((width - 1 - offset) / stride) + 1);
        return (Math.Min(first, last), last);
    }

    private static void Check(in ConvGeometry g, int imageLength, int colLength)
    {
        if (imageLength < g.ImageLength || colLength < (long)g.PatchLength * g.Positions)
        {
            throw new ArgumentException($"Spans too short for a {g.C}×{g.H}×{g.W} image and a {g.PatchLength}×{g.Positions} column matrix.");
        }
    }
}
