using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Copies slivers of op(A) and op(B) into the contiguous panels the micro-kernels stream through.
/// The transposes of the transposed forms happen here, a panel at a time, never as whole matrices.
/// </summary>
/// <remarks>
/// <para>
/// A panel of op(A) is MR rows × kc steps stored step-major: <c>dst[p·MR + r] = op(A)[i0 + r, p0 + p]</c>,
/// so each step of the kernel reads MR consecutive numbers. A panel of op(B) is kc steps × NR
/// columns: <c>dst[p·NR + j] = op(B)[p0 + p, j0 + j]</c>. Rows (columns) past the matrix edge are
/// filled with zeros; they only feed outputs the driver throws away, and 0·x adds nothing to them.
/// </para>
/// <para>
/// Which way is a straight copy depends on the storage: op(B) rows are contiguous when B is not
/// transposed (a row copy per step), op(A) columns are contiguous when A is transposed (MR numbers
/// per step). The other two cases are small transposes; for B — which the kernel re-reads for
/// every row panel of A, and which backward's dA = dC·Bᵀ transposes — they use 8×8 (float) or
/// 4×4 (double) register transposes on AVX.
/// </para>
/// </remarks>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs full panels [ip0, ip1) of k-block [p0, p0+kc) of op(A); panel ip goes to
    /// <c>dst + (ip − ip0)·MR·kc</c> (the layout the driver uses within a k-block).
    /// </summary>
    /// <remarks>
    /// When A is transposed, each stored row holds one step of all these panels side by side, so the
    /// row is read once, left to right, and cut into MR-number pieces for the panels — rather than
    /// visiting every row once per panel.
    /// </remarks>
    public static void PackAPanels<T>(T* a, nint lda, bool transposed, int ip0, int ip1, int p0, int kc, int MR, T* dst)
        where T : unmanaged
    {
        if (transposed && MR == 6)
        {
            // Groups of 16 panels: 96 numbers of each row read, 16 panels written side by side.
            var panelStride = (nint)6 * kc;
            for (var g0 = ip0; g0 < ip1; g0 += 16)
            {
                var g1 = Math.Min(ip1, g0 + 16);
                var groupBytes = (nint)(g1 - g0) * 6 * sizeof(T);
                for (var p = 0; p < kc; p++)
                {
                    var src = a + ((p0 + p) * lda) + (g0 * 6);
                    if (p + 8 < kc)
                    {
                        // Rows are a whole matrix row apart; ask for the row 8 steps ahead.
                        Simd.PrefetchToL1((byte*)(src + (8 * lda)), groupBytes);
                    }
                    var d = dst + ((g0 - ip0) * panelStride) + (p * 6);
                    for (var ip = g0; ip < g1; ip++, src += 6, d += panelStride)
                    {
                        Unsafe.CopyBlockUnaligned(d, src, (uint)(6 * sizeof(T)));
                    }
                }
            }
            return;
        }
        for (var ip = ip0; ip < ip1; ip++)
        {
            PackA(a, lda, transposed, ip * MR, MR, p0, kc, MR, dst + ((nint)(ip - ip0) * MR * kc));
        }
    }

    /// <summary>
    /// Packs full panels [jp0, jp1) of k-block [p0, p0+kc) of op(B); panel jp goes to
    /// <c>dst + (jp − jp0)·NR·kc</c>. Untransposed, each row of B is read once across all the panels.
    /// </summary>
    public static void PackBPanels<T>(T* b, nint ldb, bool transposed, int jp0, int jp1, int p0, int kc, int NR, T* dst)
        where T : unmanaged
    {
        if (!transposed)
        {
            // Groups of 8 panels: a stretch of each row read once, 8 panels written side by side.
            var panelStride = (nint)NR * kc;
            for (var g0 = jp0; g0 < jp1; g0 += 8)
            {
                var g1 = Math.Min(jp1, g0 + 8);
                for (var p = 0; p < kc; p++)
                {
                    var src = b + ((p0 + p) * ldb) + (g0 * NR);
                    var d = dst + ((g0 - jp0) * panelStride) + (p * NR);
                    for (var jp = g0; jp < g1; jp++, src += NR, d += panelStride)
                    {
                        CopyRow(src, d, NR);
                    }
                }
            }
            return;
        }
        for (var jp = jp0; jp < jp1; jp++)
        {
            PackB(b, ldb, transposed, jp * NR, NR, p0, kc, NR, dst + ((nint)(jp - jp0) * NR * kc));
        }
    }

    /// <summary>
    /// Packs rows i0 … i0+mr−1 (mr ≤ MR) and steps p0 … p0+kc−1 of op(A) into an MR-row panel.
    /// op(A)[i, p] is <c>a[i·lda + p]</c>, or <c>a[p·lda + i]</c> when <paramref name="transposed"/>.
    /// </summary>
    public static void PackA<T>(T* a, nint lda, bool transposed, int i0, int mr, int p0, int kc, int MR, T* dst)
        where T : unmanaged
    {
        if (transposed)
        {
            // Each step is mr consecutive numbers of one stored row.
            var src = a + (p0 * lda) + i0;
            if (mr == 6 && MR == 6)
            {
                // A fixed 24- or 48-byte copy per step, which the JIT turns into two vector moves.
                for (var p = 0; p < kc; p++, src += lda, dst += 6)
                {
                    Unsafe.CopyBlockUnaligned(dst, src, (uint)(6 * sizeof(T)));
                }
                return;
            }
            for (var p = 0; p < kc; p++, src += lda, dst += MR)
            {
                var r = 0;
                for (; r < mr; r++)
                {
                    dst[r] = src[r];
                }
                for (; r < MR; r++)
                {
                    dst[r] = default;
                }
            }
            return;
        }
        // Each row is contiguous along p: a transpose into step-major order. Register transposes do
        // whole blocks of steps; the scalar loop below does the rest (all of it without AVX).
        var q = 0;
        if (mr == 6 && MR == 6 && Avx.IsSupported)
        {
            if (typeof(T) == typeof(float))
            {
                q = TransposeFloat6x8((float*)a, lda, i0, p0, kc, (float*)dst);
            }
            else if (typeof(T) == typeof(double))
            {
                q = TransposeDouble6x4((double*)a, lda, i0, p0, kc, (double*)dst);
            }
        }
        for (var r = 0; r < MR; r++)
        {
            var d = dst + r;
            if (r < mr)
            {
                var src = a + ((i0 + r) * lda) + p0;
                for (var p = q; p < kc; p++)
                {
                    d[p * MR] = src[p];
                }
            }
            else
            {
                for (var p = q; p < kc; p++)
                {
                    d[p * MR] = default;
                }
            }
        }
    }

    /// <summary>
    /// The row-major A panel for float, 8 steps of 6 rows at a time; returns how many steps it packed.
    /// </summary>
    /// <remarks>
    /// The 8×8 transpose of <see cref="TransposeFloat8x8"/> with rows 6 and 7 taken as zero: o_q holds
    /// step p+q of rows 0…5 in lanes 0…5 (lanes 6, 7 are zero). Each o_q is stored whole at
    /// <c>dst[(p+q)·6]</c>, so its two spare lanes spill into the next step's first two slots — which
    /// the next store overwrites. The loop stops while at least one step remains (p + 8 &lt; kc), so
    /// the last spill lands on a step the caller's scalar loop still writes, never past the panel.
    /// Scalar equivalent: <c>dst[(p+q)·6 + r] = a[(i0+r)·lda + p0+p+q]</c>.
    /// </remarks>
    private static int TransposeFloat6x8(float* a, nint lda, int i0, int p0, int kc, float* dst)
    {
        var s = a + (i0 * lda) + p0;
        var zero = Vector256<float>.Zero;
        var p = 0;
        for (; p + 8 < kc; p += 8)
        {
            var r0 = Avx.LoadVector256(s + p);
            var r1 = Avx.LoadVector256(s + lda + p);
            var r2 = Avx.LoadVector256(s + (2 * lda) + p);
            var r3 = Avx.LoadVector256(s + (3 * lda) + p);
            var r4 = Avx.LoadVector256(s + (4 * lda) + p);
            var r5 = Avx.LoadVector256(s + (5 * lda) + p);
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var s0 = Avx.Shuffle(t0, t2, 0x44);
            var s1 = Avx.Shuffle(t0, t2, 0xEE);
            var s2 = Avx.Shuffle(t1, t3, 0x44);
            var s3 = Avx.Shuffle(t1, t3, 0xEE);
            var s4 = Avx.Shuffle(t4, zero, 0x44);
            var s5 = Avx.Shuffle(t4, zero, 0xEE);
            var s6 = Avx.Shuffle(t5, zero, 0x44);
            var s7 = Avx.Shuffle(t5, zero, 0xEE);
            var d = dst + (p * 6);
            Avx.Store(d, Avx.Permute2x128(s0, s4, 0x20));
            Avx.Store(d + 6, Avx.Permute2x128(s1, s5, 0x20));
            Avx.Store(d + 12, Avx.Permute2x128(s2, s6, 0x20));
            Avx.Store(d + 18, Avx.Permute2x128(s3, s7, 0x20));
            Avx.Store(d + 24, Avx.Permute2x128(s0, s4, 0x31));
            Avx.Store(d + 30, Avx.Permute2x128(s1, s5, 0x31));
            Avx.Store(d + 36, Avx.Permute2x128(s2, s6, 0x31));
            Avx.Store(d + 42, Avx.Permute2x128(s3, s7, 0x31));
        }
        return p;
    }

    /// <summary>
    /// The row-major A panel for double, 4 steps of 6 rows at a time; returns the steps packed.
    /// </summary>
    /// <remarks>
    /// Rows 0…3 go through the 4×4 transpose of <see cref="TransposeDouble4x4"/>; rows 4 and 5 through
    /// one unpack pair (e0 f0 | e2 f2 and e1 f1 | e3 f3), whose 128-bit halves are steps 0…3 of those two
    /// rows. Each step is stored as 4 + 2 doubles at <c>dst[(p+q)·6]</c>: exact, no spill.
    /// </remarks>
    private static int TransposeDouble6x4(double* a, nint lda, int i0, int p0, int kc, double* dst)
    {
        var s = a + (i0 * lda) + p0;
        var p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            var r0 = Avx.LoadVector256(s + p);
            var r1 = Avx.LoadVector256(s + lda + p);
            var r2 = Avx.LoadVector256(s + (2 * lda) + p);
            var r3 = Avx.LoadVector256(s + (3 * lda) + p);
            var r4 = Avx.LoadVector256(s + (4 * lda) + p);
            var r5 = Avx.LoadVector256(s + (5 * lda) + p);
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var d = dst + (p * 6);
            Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
            Sse2.Store(d + 4, t4.GetLower());
            Avx.Store(d + 6, Avx.Permute2x128(t1, t3, 0x20));
            Sse2.Store(d + 10, t5.GetLower());
            Avx.Store(d + 12, Avx.Permute2x128(t0, t2, 0x31));
            Sse2.Store(d + 16, t4.GetUpper());
            Avx.Store(d + 18, Avx.Permute2x128(t1, t3, 0x31));
            Sse2.Store(d + 22, t5.GetUpper());
        }
        return p;
    }

    /// <summary>
    /// Packs steps p0 … p0+kc−1 and columns j0 … j0+nr−1 (nr ≤ NR) of op(B) into a panel NR wide.
    /// op(B)[p, j] is <c>b[p·ldb + j]</c>, or <c>b[j·ldb + p]</c> when <paramref name="transposed"/>.
    /// </summary>
    public static void PackB<T>(T* b, nint ldb, bool transposed, int j0, int nr, int p0, int kc, int NR, T* dst)
        where T : unmanaged
    {
        if (!transposed)
        {
            var src = b + (p0 * ldb) + j0;
            if (nr == NR)
            {
                for (var p = 0; p < kc; p++, src += ldb, dst += NR)
                {
                    CopyRow(src, dst, NR);
                }
                return;
            }
            for (var p = 0; p < kc; p++, src += ldb, dst += NR)
            {
                var j = 0;
                for (; j < nr; j++)
                {
                    dst[j] = src[j];
                }
                for (; j < NR; j++)
                {
                    dst[j] = default;
                }
            }
            return;
        }
        var q = 0;
        if (nr == NR && Avx.IsSupported)
        {
            if (typeof(T) == typeof(float) && NR % 8 == 0)
            {
                q = TransposeFloat8x8((float*)b, ldb, j0, p0, kc, NR, (float*)dst);
            }
            else if (typeof(T) == typeof(double) && NR % 4 == 0)
            {
                q = TransposeDouble4x4((double*)b, ldb, j0, p0, kc, NR, (double*)dst);
            }
        }
        // The steps the register transposes did not cover (all of them without AVX): column by column,
        // reading each stored row of B contiguously.
        for (var j = 0; j < NR; j++)
        {
            var d = dst + j;
            if (j < nr)
            {
                var src = b + ((j0 + j) * ldb) + p0;
                for (var p = q; p < kc; p++)
                {
                    d[p * NR] = src[p];
                }
            }
            else
            {
                for (var p = q; p < kc; p++)
                {
                    d[p * NR] = default;
                }
            }
        }
    }

    /// <summary>Copies <paramref name="count"/> numbers with the widest vectors available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow<T>(T* src, T* dst, int count) where T : unmanaged
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<byte>.Count / sizeof(T) <= count; i += Vector256<byte>.Count / sizeof(T))
            {
                Vector256.Store(Vector256.Load((byte*)(src + i)), (byte*)(dst + i));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + Vector128<byte>.Count / sizeof(T) <= count; i += Vector128<byte>.Count / sizeof(T))
            {
                Vector128.Store(Vector128.Load((byte*)(src + i)), (byte*)(dst + i));
            }
        }
        for (; i < count; i++)
        {
            dst[i] = src[i];
        }
    }

    /// <summary>
    /// The transposed-B panel for float, 8 steps × 8 columns at a time: returns how many steps it packed
    /// (a multiple of 8; the caller does the rest).
    /// </summary>
    /// <remarks>
    /// Rows r0…r7 hold B[j0+c+0…7, p…p+7] (8 stored rows of B, 8 consecutive steps each). Lanes are
    /// named (row, step). Three rounds of shuffles turn them into o0…o7, where o_q holds step p+q of the
    /// 8 columns — exactly the 8 numbers the panel stores at <c>dst[(p+q)·NR + c]</c>:
    /// <code>
    ///   unpacklo/hi pairs (r0,r1): t0 = 00 10 01 11 | 04 14 05 15    t1 = 02 12 03 13 | 06 16 07 17
    ///   shuffle pairs   (t0,t2):   s0 = 00 10 20 30 | 04 14 24 34    s1 = 01 11 21 31 | 05 15 25 35
    ///   permute halves  (s0,s4):   o0 = 00 10 20 30 40 50 60 70       o4 = 04 14 24 34 44 54 64 74
    /// </code>
    /// (digits are row, step). Scalar equivalent: <c>dst[(p+q)·NR + c + r] = b[(j0+c+r)·ldb + p0+p+q]</c>.
    /// </remarks>
    private static int TransposeFloat8x8(float* b, nint ldb, int j0, int p0, int kc, int NR, float* dst)
    {
        var p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (var c = 0; c < NR; c += 8)
            {
                Transpose8x8(b + ((j0 + c) * ldb) + p0 + p, ldb, dst + (p * NR) + c, NR, null);
            }
        }
        return p;
    }

    /// <summary>
    /// The 8×8 register transpose: row q of the result (8 floats at <c>dst + q·ldd</c>) is column q of
    /// the 8 rows <c>src + r·lds</c> (8 floats each), plus <c>addend[q]</c> in every lane when
    /// <paramref name="addend"/> is not null. Unpacks, shuffles and half-permutes as in
    /// <see cref="TransposeFloat8x8"/>'s remarks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, nint lds, float* dst, nint ldd, float* addend)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + (2 * lds));
        var r3 = Avx.LoadVector256(src + (3 * lds));
        var r4 = Avx.LoadVector256(src + (4 * lds));
        var r5 = Avx.LoadVector256(src + (5 * lds));
        var r6 = Avx.LoadVector256(src + (6 * lds));
        var r7 = Avx.LoadVector256(src + (7 * lds));
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Store(dst, Avx.Permute2x128(s0, s4, 0x20), addend, 0);
        Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20), addend, 1);
        Store(dst + (2 * ldd), Avx.Permute2x128(s2, s6, 0x20), addend, 2);
        Store(dst + (3 * ldd), Avx.Permute2x128(s3, s7, 0x20), addend, 3);
        Store(dst + (4 * ldd), Avx.Permute2x128(s0, s4, 0x31), addend, 4);
        Store(dst + (5 * ldd), Avx.Permute2x128(s1, s5, 0x31), addend, 5);
        Store(dst + (6 * ldd), Avx.Permute2x128(s2, s6, 0x31), addend, 6);
        Store(dst + (7 * ldd), Avx.Permute2x128(s3, s7, 0x31), addend, 7);

        static void Store(float* d, Vector256<float> v, float* addend, int q)
            => Avx.Store(d, addend == null ? v : Avx.Add(v, Vector256.Create(addend[q])));
    }

    /// <summary>
    /// The transposed-B panel for double, 4 steps × 4 columns at a time; returns the steps packed.
    /// </summary>
    /// <remarks>
    /// r0…r3 hold B[j0+c+0…3, p…p+3]; lanes (row, step):
    /// <code>
    ///   unpacklo (r0,r1): t0 = 00 10 | 02 12     unpackhi (r0,r1): t1 = 01 11 | 03 13
    ///   permute halves (t0,t2): o0 = 00 10 20 30  (low halves)   o2 = 02 12 22 32  (high halves)
    /// </code>
    /// o_q is step p+q of the 4 columns, stored at <c>dst[(p+q)·NR + c]</c>.
    /// </remarks>
    private static int TransposeDouble4x4(double* b, nint ldb, int j0, int p0, int kc, int NR, double* dst)
    {
        var p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            for (var c = 0; c < NR; c += 4)
            {
                var s = b + ((j0 + c) * ldb) + p0 + p;
                var r0 = Avx.LoadVector256(s);
                var r1 = Avx.LoadVector256(s + ldb);
                var r2 = Avx.LoadVector256(s + (2 * ldb));
                var r3 = Avx.LoadVector256(s + (3 * ldb));
                var t0 = Avx.UnpackLow(r0, r1);
                var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3);
                var t3 = Avx.UnpackHigh(r2, r3);
                var d = dst + (p * NR) + c;
                Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
                Avx.Store(d + NR, Avx.Permute2x128(t1, t3, 0x20));
                Avx.Store(d + (2 * NR), Avx.Permute2x128(t0, t2, 0x31));
                Avx.Store(d + (3 * NR), Avx.Permute2x128(t1, t3, 0x31));
            }
        }
        return p;
    }
}
