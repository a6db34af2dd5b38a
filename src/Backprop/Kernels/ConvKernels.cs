using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// Convolution as a matrix product: <see cref="Im2Col{T}(in ConvGeometry, ReadOnlySpan{T}, Span{T})"/> lays out every receptive field of an
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
        => Im2Col(g, image, col, g.Positions);

    /// <summary>
    /// The same column matrix written with rows <paramref name="rowStride"/> elements apart
    /// (≥ OH·OW), so that the columns of several images can sit side by side in one matrix.
    /// </summary>
    public static void Im2Col<T>(in ConvGeometry g, ReadOnlySpan<T> image, Span<T> col, int rowStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OH, ow = g.OW, positions = oh * ow;
        if (rowStride < positions || image.Length < g.ImageLength || col.Length < ((long)(g.PatchLength - 1) * rowStride) + positions)
        {
            throw new ArgumentException($"Spans too short for a {g.C}×{g.H}×{g.W} image and a {g.PatchLength}×{g.Positions} column matrix with rows {rowStride} apart.");
        }
        if (g.Stride == 1 && ow == g.W)
        {
            Im2ColSameWidth(g, image, col, rowStride);
            return;
        }
        for (var c = 0; c < g.C; c++)
        {
            var plane = image.Slice(c * g.H * g.W, g.H * g.W);
            for (var i = 0; i < g.KH; i++)
            {
                for (var j = 0; j < g.KW; j++)
                {
                    var row = col.Slice((((c * g.KH) + i) * g.KW + j) * rowStride, positions);
                    // Output columns whose input column ox·s − p + j lies inside the image: [x0, x1);
                    // output rows whose input row oy·s − p + i does: [y0, y1). The rest is padding.
                    var (x0, x1) = Inside(j - g.Pad, g.Stride, g.W, ow);
                    var (y0, y1) = x0 < x1 ? Inside(i - g.Pad, g.Stride, g.H, oh) : (0, 0);
                    row[..(y0 * ow)].Clear();
                    row[(y1 * ow)..].Clear();
                    for (var oy = y0; oy < y1; oy++)
                    {
                        var dst = row.Slice(oy * ow, ow);
                        var src = plane.Slice(((oy * g.Stride) - g.Pad + i) * g.W, g.W);
                        // The padding columns: a few elements at each edge.
                        for (var k = 0; k < x0; k++)
                        {
                            dst[k] = T.Zero;
                        }
                        for (var k = x1; k < ow; k++)
                        {
                            dst[k] = T.Zero;
                        }
                        var x = (x0 * g.Stride) - g.Pad + j;
                        if (g.Stride == 1)
                        {
                            CopyRun(src.Slice(x, x1 - x0), dst[x0..x1]);
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

    // Stride 1 with output rows as wide as the image's ("same" padding across, as in a 3×3 kernel
    // with padding 1): each row of the column matrix is the image plane shifted by (i − p)·W + (j − p)
    // elements, so it is one long copy, then zeros where the shift crossed the left or right edge and
    // in the padding rows above and below.
    [SkipLocalsInit]
    private static void Im2ColSameWidth<T>(in ConvGeometry g, ReadOnlySpan<T> image, Span<T> col, int rowStride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OH, w = g.W, positions = oh * w, planeLength = g.H * w, taps = g.KH * g.KW;
        // A row's shift, ranges and edges depend on (i, j) only: worked out once, not per channel.
        Span<int> shifts = taps <= MaxTaps ? stackalloc int[MaxTaps * 7] : new int[taps * 7];
        Shifts(g, shifts);
        for (var c = 0; c < g.C; c++)
        {
            var plane = image.Slice(c * planeLength, planeLength);
            for (var t = 0; t < taps; t++)
            {
                var row = col.Slice(((c * taps) + t) * rowStride, positions);
                int start = shifts[t * 7], end = shifts[(t * 7) + 1], lo = shifts[(t * 7) + 2], hi = shifts[(t * 7) + 3];
                int shift = shifts[(t * 7) + 4], edge0 = shifts[(t * 7) + 5], edge1 = shifts[(t * 7) + 6];
                if (start >= end)
                {
                    row.Clear();
                    continue;
                }
                // Zeros before lo and from hi (padding rows, and the part of [start, end) the shift
                // takes outside the plane), the shifted plane between, then the columns the shift
                // carried across the left or right edge.
                ZeroShort(row[..lo]);
                ZeroShort(row[hi..]);
                CopyRun(plane.Slice(lo + shift, hi - lo), row[lo..hi]);
                if (edge0 > 0 || edge1 < w)
                {
                    for (var oy = start / w; oy < end / w; oy++)
                    {
                        var line = row.Slice(oy * w, w);
                        for (var k = 0; k < edge0; k++)
                        {
                            line[k] = T.Zero;
                        }
                        for (var k = edge1; k < w; k++)
                        {
                            line[k] = T.Zero;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Kernel taps (KH·KW) whose shifts <see cref="Im2ColSameWidth{T}"/> keeps on the stack.</summary>
    private const int MaxTaps = 49;

    // span.Clear() for the short runs of zeros around a shifted plane (usually none, or one image row).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroShort<T>(Span<T> span) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (span.Length > 64)
        {
            span.Clear();
            return;
        }
        for (var k = 0; k < span.Length; k++)
        {
            span[k] = T.Zero;
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col{T}(in ConvGeometry, ReadOnlySpan{T}, Span{T})"/>: x[c, oy·s − p + i, ox·s − p + j] += col[r, q] for every
    /// element of the column matrix that came from the image (padding elements are dropped).
    /// </summary>
    public static void Col2Im<T>(in ConvGeometry g, ReadOnlySpan<T> col, Span<T> image) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, image.Length, col.Length);
        int oh = g.OH, ow = g.OW, positions = oh * ow;
        if (g.Stride == 1 && ow == g.W && g.Pad * oh <= MaxSaved)
        {
            Col2ImSameWidth(g, col, image);
            return;
        }
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
                            AddShort(src[x0..x1], dst.Slice(x, x1 - x0));
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

    // Row (c, i, j) of a same-width column matrix is the plane shifted by (i − p)·W + (j − p):
    // [start, end) are its elements in output rows whose input row lies in the image (empty when the
    // shift leaves no column inside), [lo, hi) those of them whose shifted index lies in the plane, and
    // columns ox < edge0 or ox ≥ edge1 are the ones the shift carried across the left or right edge.
    private static (int Start, int End, int Lo, int Hi, int Shift, int Edge0, int Edge1) Shift(in ConvGeometry g, int i, int j)
    {
        int w = g.W, dy = i - g.Pad, dx = j - g.Pad;
        var (y0, y1) = Math.Abs(dx) < w ? Inside(dy, 1, g.H, g.OH) : (0, 0);
        int shift = (dy * w) + dx, start = y0 * w, end = y1 * w;
        return (start, end, Math.Max(start, -shift), Math.Min(end, (g.H * w) - shift), shift, Math.Max(0, -dx), Math.Min(w, w - dx));
    }

    /// <summary>Most pixels <see cref="Col2ImSameWidth{T}"/> sets aside per row of the column matrix.</summary>
    private const int MaxSaved = 256;

    // The adjoint of Im2ColSameWidth: each row of the column matrix is added to the plane shifted by
    // (i − p)·W + (j − p) in one long vector addition. The elements the shift carried across the left
    // or right edge belong to no pixel, yet the long addition adds each to a pixel of the next or
    // previous image row; those pixels (at most p per output row) are set aside before and put back
    // after, so every pixel ends with exactly the additions of the general loop, rows in order.
    [SkipLocalsInit]
    private static void Col2ImSameWidth<T>(in ConvGeometry g, ReadOnlySpan<T> col, Span<T> image) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OH, w = g.W, positions = oh * w, planeLength = g.H * w, taps = g.KH * g.KW;
        Span<T> saved = stackalloc T[MaxSaved];
        Span<int> at = stackalloc int[MaxSaved];
        Span<int> shifts = taps <= MaxTaps ? stackalloc int[MaxTaps * 7] : new int[taps * 7];
        Shifts(g, shifts);
        for (var c = 0; c < g.C; c++)
        {
            var plane = image.Slice(c * planeLength, planeLength);
            for (var t = 0; t < taps; t++)
            {
                var row = col.Slice(((c * taps) + t) * positions, positions);
                int start = shifts[t * 7], end = shifts[(t * 7) + 1], lo = shifts[(t * 7) + 2], hi = shifts[(t * 7) + 3];
                int shift = shifts[(t * 7) + 4], edge0 = shifts[(t * 7) + 5], edge1 = shifts[(t * 7) + 6];
                if (start >= end)
                {
                    continue;
                }
                // Elements [lo, hi) land inside the plane; of them, those in columns ox < edge0 or
                // ox ≥ edge1 crossed an edge: set their landing pixels aside.
                var count = 0;
                if (edge0 > 0 || edge1 < w)
                {
                    for (var oy = start / w; oy < end / w; oy++)
                    {
                        // The crossing columns of this output row: [0, edge0) and [edge1, W).
                        for (var ox = edge0 > 0 ? 0 : edge1; ox < w; ox = ox + 1 == edge0 ? edge1 : ox + 1)
                        {
                            var q = (oy * w) + ox;
                            if (q >= lo && q < hi)
                            {
                                at[count] = q + shift;
                                saved[count++] = plane[q + shift];
                            }
                        }
                    }
                }
                AddLong(row[lo..hi], plane.Slice(lo + shift, hi - lo));
                for (var k = 0; k < count; k++)
                {
                    plane[at[k]] = saved[k];
                }
            }
        }
    }

    // The shift, ranges and edges (Shift) of every kernel tap t = i·KW + j, 7 numbers each.
    private static void Shifts(in ConvGeometry g, Span<int> shifts)
    {
        for (int i = 0, t = 0; i < g.KH; i++)
        {
            for (var j = 0; j < g.KW; j++, t++)
            {
                var (start, end, lo, hi, shift, edge0, edge1) = Shift(g, i, j);
                shifts[(t * 7) + 0] = start;
                shifts[(t * 7) + 1] = end;
                shifts[(t * 7) + 2] = lo;
                shifts[(t * 7) + 3] = hi;
                shifts[(t * 7) + 4] = shift;
                shifts[(t * 7) + 5] = edge0;
                shifts[(t * 7) + 6] = edge1;
            }
        }
    }

    // dst += src, element by element, for runs of a few hundred elements: inline 64-byte vectors,
    // then the rest as AddShort does (one IEEE addition per element either way).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddLong<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = src.Length, i = 0;
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                (Vector512.LoadUnsafe(ref d, (nuint)i) + Vector512.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        AddShort(src[i..], dst[i..]);
    }

    /// <summary>
    /// dst[c, r] = src[r, c] (+ bias[c] when <paramref name="bias"/> is not empty) for src
    /// [rows, cols] and dst [cols, rows], both row-major: a product formed positions-first turned
    /// channels-first, with each channel's bias added (one addition, as on every path).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short, or the bias is neither empty nor one value per column.</exception>
    public static unsafe void Transpose<T>(ReadOnlySpan<T> src, int rows, int cols, ReadOnlySpan<T> bias, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (src.Length < (long)rows * cols || dst.Length < (long)rows * cols || (bias.Length != 0 && bias.Length != cols))
        {
            throw new ArgumentException($"Spans too short for a {rows}×{cols} transpose, or a bias of {bias.Length} values for {cols} columns.");
        }
        var done = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported)
        {
            // Whole 8×8 tiles through registers; the rest (rows past the last multiple of 8, and
            // columns past the last multiple of 8) below.
            fixed (T* ps = src, pd = dst, pb = bias)
            {
                done = TransposeFloat8x8((float*)ps, rows, cols, (float*)pb, (float*)pd);
            }
        }
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        var fullCols = done > 0 ? cols / 8 * 8 : 0;
        // Blocks of 16 source rows (a few KB, in L1) written out column by column.
        for (var r0 = 0; r0 < rows; r0 += TransposeBlock)
        {
            var r1 = Math.Min(rows, r0 + TransposeBlock);
            for (var c = 0; c < cols; c++)
            {
                // Rows [r0, r1) of column c, less those the tiles wrote.
                var from0 = c < fullCols ? Math.Max(r0, done) : r0;
                if (from0 >= r1)
                {
                    continue;
                }
                ref var to = ref Unsafe.Add(ref d, (c * rows) + from0);
                ref var from = ref Unsafe.Add(ref s, (from0 * cols) + c);
                var b = bias.Length != 0 ? bias[c] : T.Zero;
                for (var r = 0; r < r1 - from0; r++)
                {
                    Unsafe.Add(ref to, r) = bias.Length != 0 ? Unsafe.Add(ref from, r * cols) + b : Unsafe.Add(ref from, r * cols);
                }
            }
        }
    }

    // dst[c, r] = src[r, c] (+ bias[c]) for the 8×8 tiles of rows [0, rows − rows % 8) and columns
    // [0, cols − cols % 8); returns the rows covered (0 when there are fewer than 8 rows or columns).
    private static unsafe int TransposeFloat8x8(float* src, int rows, int cols, float* bias, float* dst)
    {
        int fullRows = rows / 8 * 8, fullCols = cols / 8 * 8;
        if (fullRows == 0 || fullCols == 0)
        {
            return 0;
        }
        for (var c0 = 0; c0 < fullCols; c0 += 8)
        {
            for (var r0 = 0; r0 < fullRows; r0 += 8)
            {
                GemmPacking.Transpose8x8(src + ((nint)r0 * cols) + c0, cols, dst + ((nint)c0 * rows) + r0, rows, bias == null ? null : bias + c0);
            }
        }
        return fullRows;
    }

    /// <summary>Source rows per block of <see cref="Transpose{T}"/>.</summary>
    private const int TransposeBlock = 16;

    // dst = src for the runs of an image row or a shifted plane (a few to a few hundred elements):
    // inline vector moves of the widest size the run fills, the last one overlapping the one before
    // (src and dst never overlap), instead of a call to a general copy per run.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = src.Length, i = 0;
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            for (; i < n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            }
            i = n - Vector512<T>.Count;
            Vector512.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            return;
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            for (; i < n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                Vector256.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            }
            i = n - Vector256<T>.Count;
            Vector256.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            return;
        }
        if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
        {
            for (; i < n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                Vector128.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            }
            i = n - Vector128<T>.Count;
            Vector128.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            return;
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i);
        }
    }

    // dst += src, element by element, for the short runs of one image row (inline vectors, then the rest).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddShort<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = src.Length, i = 0;
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                (Vector256.LoadUnsafe(ref d, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                (Vector128.LoadUnsafe(ref d, (nuint)i) + Vector128.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) += Unsafe.Add(ref s, i);
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
