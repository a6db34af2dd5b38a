using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// A convolution's forward product computed straight from the (padded) image, without a column
/// matrix: for stride 1 and small patches (a first layer: 1–3 channels, 3×3 kernels), where the
/// product W[O, C·KH·KW] · col is only a few steps deep and im2col, packing and copying cost more
/// than the multiply-adds.
/// </summary>
/// <remarks>
/// <para>
/// The image is copied into a zero-bordered buffer, each channel (H + 2p) × (W + 2p) =: Hp × Wp.
/// With stride 1, output (oy, ox) reads, for patch row r = (c·KH + i)·KW + j, the padded pixel at
/// c·Hp·Wp + (oy + i)·Wp + (ox + j) = oy·Wp + ox + offset(r). So a vector of outputs along an output
/// row reads a vector of padded pixels per patch row, one load serving four output channels. Each
/// output row is covered by whole vectors, the last one moved back to end at the row's end (it
/// recomputes a few outputs, which get the same values), so there is no tail loop and no copy.
/// </para>
/// <para>
/// Arithmetic. Each output is one multiply-add chain over r = 0 … C·KH·KW − 1 in order, from zero,
/// with <see cref="Simd.MulAdd{T}(T, T, T)"/>'s rule (fused where the hardware has FMA), and then one
/// addition of the bias: exactly the operations of im2col and the GEMM (one k-block, since the patch
/// is shorter than <see cref="Gemm.KC"/>) followed by the bias, so the bits are those of that path,
/// at every vector width. Padding pixels are zeros in the chain, as in the column matrix.
/// </para>
/// </remarks>
internal static class DirectConvKernels
{
    /// <summary>Longest patch (C·KH·KW) the direct kernel takes; longer ones go through the GEMM.</summary>
    public const int MaxPatch = 32;

    /// <summary>Whether <paramref name="g"/> is one the direct kernel computes (stride 1, patch ≤ <see cref="MaxPatch"/>).</summary>
    public static bool Applies(in ConvGeometry g) => g.Stride == 1 && g.PatchLength <= MaxPatch;

    /// <summary>Length of the padded-image buffer <see cref="Forward{T}"/> needs.</summary>
    public static int PaddedLength(in ConvGeometry g) => g.C * (g.H + (2 * g.Pad)) * (g.W + (2 * g.Pad));

    /// <summary>
    /// output[o, oy, ox] = Σᵣ weight[o, r] · x[r's pixel for (oy, ox)] (+ bias[o]) for one image
    /// <paramref name="image"/> [C, H, W]; <paramref name="weight"/> is [O, C·KH·KW]; the bias is
    /// optional (empty span). <paramref name="padded"/> is scratch (<see cref="PaddedLength"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is not one the kernel takes, or a span is too short.</exception>
    public static unsafe void Forward<T>(in ConvGeometry g, ReadOnlySpan<T> image, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias,
        int outChannels, Span<T> padded, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Applies(g))
        {
            throw new ArgumentException($"The direct kernel takes stride 1 and patches of at most {MaxPatch} (got stride {g.Stride}, patch {g.PatchLength}).");
        }
        int patch = g.PatchLength;
        if (image.Length < g.ImageLength || weight.Length < outChannels * patch || (bias.Length != 0 && bias.Length < outChannels)
            || padded.Length < PaddedLength(g) || output.Length < outChannels * g.Positions)
        {
            throw new ArgumentException($"Spans too short for a {g.C}×{g.H}×{g.W} image convolved to {outChannels}×{g.OH}×{g.OW}.");
        }
        Pad(g, image, padded);
        Span<int> offsets = stackalloc int[MaxPatch];
        int wp = g.W + (2 * g.Pad), plane = (g.H + (2 * g.Pad)) * wp;
        for (int c = 0, r = 0; c < g.C; c++)
        {
            for (var i = 0; i < g.KH; i++)
            {
                for (var j = 0; j < g.KW; j++, r++)
                {
                    offsets[r] = (c * plane) + (i * wp) + j;
                }
            }
        }
        var shape = new Rows(outChannels, patch, g.OH, g.OW, wp);
        fixed (T* px = padded, pw = weight, pb = bias, py = output)
        fixed (int* off = offsets)
        {
            // The widest vectors that fit an output row (the row is covered by whole vectors).
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && g.OW >= Vector512<T>.Count)
            {
                Chains<T, Lanes512<T>, Vector512<T>>(px, off, pw, pb, py, shape);
            }
            else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && g.OW >= Vector256<T>.Count)
            {
                Chains<T, Lanes256<T>, Vector256<T>>(px, off, pw, pb, py, shape);
            }
            else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported && g.OW >= Vector128<T>.Count)
            {
                Chains<T, Lanes128<T>, Vector128<T>>(px, off, pw, pb, py, shape);
            }
            else
            {
                Chains<T, Lanes1<T>, T>(px, off, pw, pb, py, shape);
            }
        }
    }

    // padded[c, y + p, x + p] = image[c, y, x]; zeros around each plane.
    private static void Pad<T>(in ConvGeometry g, ReadOnlySpan<T> image, Span<T> padded) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int wp = g.W + (2 * g.Pad), plane = (g.H + (2 * g.Pad)) * wp;
        if (g.Pad == 0)
        {
            image[..g.ImageLength].CopyTo(padded);
            return;
        }
        padded[..PaddedLength(g)].Clear();
        for (var c = 0; c < g.C; c++)
        {
            for (var y = 0; y < g.H; y++)
            {
                image.Slice(((c * g.H) + y) * g.W, g.W).CopyTo(padded.Slice((c * plane) + ((y + g.Pad) * wp) + g.Pad, g.W));
            }
        }
    }

    /// <summary>Output channels, patch length, output rows and columns, and the padded row length.</summary>
    private readonly record struct Rows(int OutChannels, int Patch, int OH, int OW, int Wp);

    // y[o, oy, ox] = Σᵣ w[o, r]·x[oy·Wp + ox + offset[r]] (+ b[o]), four output channels at a time
    // (one load of x serves four chains), then the rest one at a time; each output row in whole
    // vectors, the last one ending at the row's end.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Chains<T, TL, TV>(T* x, int* offsets, T* w, T* b, T* y, Rows s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TL : struct, ILanes<T, TV>
        where TV : struct
    {
        int patch = s.Patch, ow = s.OW, positions = s.OH * s.OW, last = ow - TL.Count;
        var o = 0;
        for (; o + 4 <= s.OutChannels; o += 4)
        {
            T* w0 = w + (o * patch), w1 = w0 + patch, w2 = w1 + patch, w3 = w2 + patch;
            T* y0 = y + (o * positions), y1 = y0 + positions, y2 = y1 + positions, y3 = y2 + positions;
            for (var oy = 0; oy < s.OH; oy++)
            {
                for (var ox = 0; ; ox = Math.Min(ox + TL.Count, last))
                {
                    T* xq = x + (oy * s.Wp) + ox;
                    TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
                    for (var r = 0; r < patch; r++)
                    {
                        var v = TL.Load(xq + offsets[r]);
                        a0 = TL.MulAdd(v, w0[r], a0);
                        a1 = TL.MulAdd(v, w1[r], a1);
                        a2 = TL.MulAdd(v, w2[r], a2);
                        a3 = TL.MulAdd(v, w3[r], a3);
                    }
                    var q = (oy * ow) + ox;
                    TL.Store(b == null ? a0 : TL.Add(a0, b[o]), y0 + q);
                    TL.Store(b == null ? a1 : TL.Add(a1, b[o + 1]), y1 + q);
                    TL.Store(b == null ? a2 : TL.Add(a2, b[o + 2]), y2 + q);
                    TL.Store(b == null ? a3 : TL.Add(a3, b[o + 3]), y3 + q);
                    if (ox == last)
                    {
                        break;
                    }
                }
            }
        }
        for (; o < s.OutChannels; o++)
        {
            T* w0 = w + (o * patch), y0 = y + (o * positions);
            for (var oy = 0; oy < s.OH; oy++)
            {
                for (var ox = 0; ; ox = Math.Min(ox + TL.Count, last))
                {
                    T* xq = x + (oy * s.Wp) + ox;
                    var a0 = TL.Zero;
                    for (var r = 0; r < patch; r++)
                    {
                        a0 = TL.MulAdd(TL.Load(xq + offsets[r]), w0[r], a0);
                    }
                    TL.Store(b == null ? a0 : TL.Add(a0, b[o]), y0 + (oy * ow) + ox);
                    if (ox == last)
                    {
                        break;
                    }
                }
            }
        }
    }

    /// <summary>One vector width's operations, so that <see cref="Chains"/> is written once for all widths.</summary>
    private unsafe interface ILanes<T, TV> where T : unmanaged
    {
        static abstract int Count { get; }

        static abstract TV Zero { get; }

        static abstract TV Load(T* p);

        static abstract TV MulAdd(TV x, T y, TV acc);

        static abstract TV Add(TV x, T y);

        static abstract void Store(TV v, T* p);
    }

    private readonly unsafe struct Lanes512<T> : ILanes<T, Vector512<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => Vector512<T>.Count;

        public static Vector512<T> Zero => Vector512<T>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Load(T* p) => Vector512.Load(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> MulAdd(Vector512<T> x, T y, Vector512<T> acc) => Simd.MulAdd(x, Vector512.Create(y), acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Add(Vector512<T> x, T y) => x + Vector512.Create(y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<T> v, T* p) => v.Store(p);
    }

    private readonly unsafe struct Lanes256<T> : ILanes<T, Vector256<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => Vector256<T>.Count;

        public static Vector256<T> Zero => Vector256<T>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> Load(T* p) => Vector256.Load(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> MulAdd(Vector256<T> x, T y, Vector256<T> acc) => Simd.MulAdd(x, Vector256.Create(y), acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> Add(Vector256<T> x, T y) => x + Vector256.Create(y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector256<T> v, T* p) => v.Store(p);
    }

    private readonly unsafe struct Lanes128<T> : ILanes<T, Vector128<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => Vector128<T>.Count;

        public static Vector128<T> Zero => Vector128<T>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<T> Load(T* p) => Vector128.Load(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<T> MulAdd(Vector128<T> x, T y, Vector128<T> acc) => Simd.MulAdd(x, Vector128.Create(y), acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<T> Add(Vector128<T> x, T y) => x + Vector128.Create(y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector128<T> v, T* p) => v.Store(p);
    }

    private readonly unsafe struct Lanes1<T> : ILanes<T, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => 1;

        public static T Zero => T.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Load(T* p) => *p;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T MulAdd(T x, T y, T acc) => Simd.MulAdd(x, y, acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Add(T x, T y) => x + y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(T v, T* p) => *p = v;
    }
}
