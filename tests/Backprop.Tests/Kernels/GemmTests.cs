using System.Numerics;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// Gemm against a compensated reference: every m, n, k from 1 to 70 along each axis, all four transpose
/// forms, accumulate on and off, float and double; plus the blocking edges, large odd sizes through the
/// parallel path, and bit-identity across paths, kernels and thread counts.
/// </summary>
/// <remarks>
/// <para>
/// Tolerance, from the error bound rather than tuned: each product aᵢₚbₚⱼ reaches Cᵢⱼ through at most
/// one multiplication rounding (none with FMA), at most kc additions in its k-block's chain and at
/// most ⌈k/KC⌉ additions merging blocks into C — k + 2 roundings at most — so
/// |Ĉᵢⱼ − Cᵢⱼ| ≤ γ_(k+2)·(Σₚ|aᵢₚ·bₚⱼ| + |C₀ᵢⱼ|), γ_n = n·u/(1 − n·u), u = 2⁻²⁴ (float) or 2⁻⁵³
/// (double) (Higham, Accuracy and Stability of Numerical Algorithms, §3.1 and §4.2).
/// </para>
/// <para>
/// The reference is the dot product in double with error-free transformations (Ogita, Rump and Oishi's
/// Dot2): as accurate as if computed in twice the working precision, |ref − C| ≤ u_d·|C| + γ²_(2k+2)·S.
/// That is added to the tolerance, so even double results are judged against an exact-enough value.
/// </para>
/// </remarks>
public sealed class GemmTests
{
    private const int Guard = 5;

    private static readonly (bool TransposeA, bool TransposeB)[] Forms = [(false, false), (false, true), (true, false), (true, true)];

    public static TheoryData<bool, bool> AllForms() => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    // ---- reference and checks ----------------------------------------------------------------------

    private static T[] Random<T>(Rng rng, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = T.CreateChecked(rng.NextUniform(-1, 1));
        }
        return values;
    }

    private static double Unit<T>() => typeof(T) == typeof(float) ? Math.ScaleB(1, -24) : Math.ScaleB(1, -53);

    private static double Gamma(int n, double u) => n * u / (1 - (n * u));

    /// <summary>s + x·y as an unevaluated pair (hi, lo) added to the running (sum, compensation).</summary>
    private static void Dot2Step(ref double sum, ref double compensation, double x, double y)
    {
        var product = x * y;
        var productError = Math.FusedMultiplyAdd(x, y, -product); // exact: x·y = product + productError
        var s = sum + product;
        var z = s - sum;
        var sumError = (sum - (s - z)) + (product - z);          // exact: sum + product = s + sumError
        sum = s;
        compensation += productError + sumError;
    }

    /// <summary>Checks C after Gemm against the reference, element by element, and that nothing past C changed.</summary>
    private static void Check<T>(bool transposeA, bool transposeB, int m, int n, int k, bool accumulate, T[] a, T[] b, T[] initial, T[] c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var u = Unit<T>();
        const double ud = 1.0 / (1L << 53);
        var gamma = Gamma(k + 2, u);
        var gammaReference = Gamma((2 * k) + 2, ud);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = 0, compensation = 0, scale = 0;
                if (accumulate)
                {
                    sum = double.CreateChecked(initial[(i * n) + j]);
                    scale = Math.Abs(sum);
                }
                for (var p = 0; p < k; p++)
                {
                    var aip = double.CreateChecked(transposeA ? a[(p * m) + i] : a[(i * k) + p]);
                    var bpj = double.CreateChecked(transposeB ? b[(j * k) + p] : b[(p * n) + j]);
                    Dot2Step(ref sum, ref compensation, aip, bpj);
                    scale += Math.Abs(aip * bpj);
                }
                var expected = sum + compensation;
                var tolerance = (gamma * scale) + (ud * Math.Abs(expected)) + (gammaReference * gammaReference * scale);
                var actual = double.CreateChecked(c[(i * n) + j]);
                if (!(Math.Abs(actual - expected) <= tolerance))
                {
                    Assert.Fail($"{typeof(T).Name} transposeA={transposeA} transposeB={transposeB} m={m} n={n} k={k} accumulate={accumulate}: "
                        + $"C[{i},{j}] = {actual:R}, expected {expected:R} ± {tolerance:R}");
                }
            }
        }
        if (!c.AsSpan(m * n).SequenceEqual(initial.AsSpan(m * n)))
        {
            Assert.Fail($"m={m} n={n} k={k}: an element past C was overwritten");
        }
    }

    /// <summary>Runs Gemm on exactly sized A and B and a C with guard elements, returning C (guards included).</summary>
    private static T[] Run<T>(bool transposeA, bool transposeB, int m, int n, int k, bool accumulate, T[] a, T[] b, T[] initial, GemmOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = initial[..((m * n) + Guard)];
        if (options is { } o)
        {
            Gemm.Multiply<T>(transposeA, transposeB, m, n, k, a.AsSpan(0, m * k), b.AsSpan(0, k * n), c, accumulate, o);
        }
        else
        {
            Gemm.Multiply<T>(transposeA, transposeB, m, n, k, a.AsSpan(0, m * k), b.AsSpan(0, k * n), c, accumulate);
        }
        return c;
    }

    private static void CheckSize<T>(Rng rng, bool transposeA, bool transposeB, int m, int n, int k, bool accumulate, GemmOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Random<T>(rng, m * k);
        var b = Random<T>(rng, k * n);
        var initial = Random<T>(rng, (m * n) + Guard);
        var c = Run(transposeA, transposeB, m, n, k, accumulate, a, b, initial, options);
        Check(transposeA, transposeB, m, n, k, accumulate, a, b, initial[..((m * n) + Guard)], c);
    }

    /// <summary>
    /// Sizes where each of m, n and k takes every value 1…70 while the other two are drawn at random
    /// from 1…70: 210 shapes per form, so every value occurs along every axis with the others varied.
    /// </summary>
    private static List<(int M, int N, int K)> AxisSweep(ulong seed)
    {
        var rng = new Rng(seed);
        var sizes = new List<(int, int, int)>();
        for (var v = 1; v <= 70; v++)
        {
            sizes.Add((v, 1 + rng.NextInt(70), 1 + rng.NextInt(70)));
            sizes.Add((1 + rng.NextInt(70), v, 1 + rng.NextInt(70)));
            sizes.Add((1 + rng.NextInt(70), 1 + rng.NextInt(70), v));
        }
        return sizes;
    }

    // ---- against the reference ---------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(AllForms))]
    public void Every_size_from_1_to_70_along_each_axis_matches_the_reference_in_float(bool transposeA, bool transposeB)
    {
        var rng = new Rng(70);
        foreach (var (m, n, k) in AxisSweep(7))
        {
            CheckSize<float>(rng, transposeA, transposeB, m, n, k, accumulate: false);
            CheckSize<float>(rng, transposeA, transposeB, m, n, k, accumulate: true);
        }
    }

    [Theory]
    [MemberData(nameof(AllForms))]
    public void Every_size_from_1_to_70_along_each_axis_matches_the_reference_in_double(bool transposeA, bool transposeB)
    {
        var rng = new Rng(71);
        foreach (var (m, n, k) in AxisSweep(8))
        {
            CheckSize<double>(rng, transposeA, transposeB, m, n, k, accumulate: false);
            CheckSize<double>(rng, transposeA, transposeB, m, n, k, accumulate: true);
        }
    }

    [Theory]
    [MemberData(nameof(AllForms))]
    public void Every_size_up_to_12_in_every_combination_matches_the_reference(bool transposeA, bool transposeB)
    {
        // The full cube through every path (Auto takes the triple loop up to 64 multiply-adds): every
        // ragged edge of the 6-row tiles and of the vector widths.
        var rng = new Rng(12);
        for (var m = 1; m <= 12; m++)
        {
            for (var n = 1; n <= 12; n++)
            {
                for (var k = 1; k <= 12; k++)
                {
                    foreach (var path in new[] { GemmPath.Auto, GemmPath.Small, GemmPath.Blocked })
                    {
                        var options = new GemmOptions(1, Path: path);
                        CheckSize<float>(rng, transposeA, transposeB, m, n, k, accumulate: (m + n + k) % 2 == 0, options);
                        CheckSize<double>(rng, transposeA, transposeB, m, n, k, accumulate: (m + n + k) % 2 == 1, options);
                    }
                }
            }
        }
    }

    public static TheoryData<int, int, int> BlockingEdges() => new()
    {
        // k across the 256-step blocks; m across the 144/72-row blocks; n across panel and 1024/512-column blocks.
        { 13, 17, 255 }, { 13, 17, 256 }, { 13, 17, 257 }, { 7, 9, 513 }, { 145, 20, 30 }, { 73, 33, 40 },
        { 20, 513, 9 }, { 5, 1025, 3 }, { 1, 300, 40 }, { 300, 1, 40 }, { 2, 50, 600 }, { 50, 2, 600 },
        { 150, 1100, 20 },
    };

    [Theory]
    [MemberData(nameof(BlockingEdges))]
    public void Sizes_at_the_blocking_edges_match_the_reference(int m, int n, int k)
    {
        // On all threads, and on one (where the first row of blocks packs B for the others).
        var rng = new Rng(99);
        foreach (var (transposeA, transposeB) in Forms)
        {
            CheckSize<float>(rng, transposeA, transposeB, m, n, k, accumulate: true);
            CheckSize<double>(rng, transposeA, transposeB, m, n, k, accumulate: false);
            CheckSize<float>(rng, transposeA, transposeB, m, n, k, accumulate: false, new GemmOptions(1));
            CheckSize<double>(rng, transposeA, transposeB, m, n, k, accumulate: true, new GemmOptions(1));
        }
    }

    public static TheoryData<int, int, int> LargeOddSizes() => new() { { 257, 129, 511 }, { 131, 521, 67 } };

    [Theory]
    [MemberData(nameof(LargeOddSizes))]
    public void Large_odd_sizes_match_the_reference_on_all_threads(int m, int n, int k)
    {
        var rng = new Rng(257);
        foreach (var (transposeA, transposeB) in Forms)
        {
            CheckSize<float>(rng, transposeA, transposeB, m, n, k, accumulate: true, new GemmOptions(4));
            CheckSize<double>(rng, transposeA, transposeB, m, n, k, accumulate: false, new GemmOptions(4));
        }
    }

    [Fact]
    public void Products_too_big_to_pack_at_once_are_cut_into_super_blocks()
    {
        // A packing cap of 2000 elements forces super-blocks of rows and columns at small sizes.
        var rng = new Rng(2000);
        foreach (var (transposeA, transposeB) in Forms)
        {
            var options = new GemmOptions(2, MaxPackedElements: 2000);
            CheckSize<float>(rng, transposeA, transposeB, 301, 1100, 5, accumulate: true, options);
            CheckSize<double>(rng, transposeA, transposeB, 150, 40, 300, accumulate: false, options);
        }
    }

    // ---- same bits everywhere ----------------------------------------------------------------------

    private static void AssertSameBits<T>(T[] expected, T[] actual, string what)
    {
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            var i = expected.AsSpan().CommonPrefixLength(actual);
            Assert.Fail($"{what}: element {i} differs ({expected[i]} vs {actual[i]})");
        }
    }

    private static void SameBitsForThreadCounts<T>(int m, int n, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)((m * 1000) + n));
        var a = Random<T>(rng, m * k);
        var b = Random<T>(rng, k * n);
        var initial = Random<T>(rng, (m * n) + Guard);
        for (var form = 0; form < Forms.Length; form++)
        {
            var (transposeA, transposeB) = Forms[form];
            var accumulate = form % 2 == 1;
            var one = Run(transposeA, transposeB, m, n, k, accumulate, a, b, initial, new GemmOptions(1));
            for (var threads = 2; threads <= 4; threads++)
            {
                var many = Run(transposeA, transposeB, m, n, k, accumulate, a, b, initial, new GemmOptions(threads, ForceParallel: true));
                AssertSameBits(one, many, $"{typeof(T).Name} {m}×{n}×{k} tA={transposeA} tB={transposeB} acc={accumulate}, {threads} threads vs 1");
            }
        }
    }

    // Row-block splits, column-block splits (m of a batch, n of a layer), a thin n, ragged sizes, tiny tasks.
    public static TheoryData<int, int, int> ParallelSizes() => new() { { 257, 129, 511 }, { 64, 700, 50 }, { 1000, 10, 64 }, { 70, 69, 68 }, { 7, 300, 3 } };

    [Theory]
    [MemberData(nameof(ParallelSizes))]
    public void One_to_four_threads_give_the_same_bits(int m, int n, int k)
    {
        SameBitsForThreadCounts<float>(m, n, k);
        SameBitsForThreadCounts<double>(m, n, k);
    }

    [Fact]
    public void The_parallel_path_really_uses_the_workers()
    {
        var a = new float[300 * 300];
        var b = new float[300 * 300];
        var c = new float[300 * 300];
        Gemm.Multiply<float>(false, false, 300, 300, 300, a, b, c, false, new GemmOptions(3, ForceParallel: true));
        Assert.True(WorkerPool.Shared.WorkerCount >= 2);
    }

    private static IEnumerable<GemmOptions> EveryPathAndKernel()
    {
        yield return new GemmOptions(1, Path: GemmPath.Small);
        foreach (var kernel in new[] { GemmKernel.Vector256, GemmKernel.Vector128, GemmKernel.Scalar })
        {
            yield return new GemmOptions(1, kernel, GemmPath.Blocked);
        }
    }

    private static void SameBitsOnEveryPath<T>(int m, int n, int k, bool includeVector512) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)((m * 10000) + (n * 100) + k));
        var a = Random<T>(rng, m * k);
        var b = Random<T>(rng, k * n);
        var initial = Random<T>(rng, (m * n) + Guard);
        var options = EveryPathAndKernel().ToList();
        if (includeVector512)
        {
            // Runs in software where the hardware lacks AVX-512: slow, but the same arithmetic.
            options.Add(new GemmOptions(1, GemmKernel.Vector512, GemmPath.Blocked));
        }
        foreach (var (transposeA, transposeB) in Forms)
        {
            foreach (var accumulate in new[] { false, true })
            {
                var auto = Run(transposeA, transposeB, m, n, k, accumulate, a, b, initial);
                foreach (var o in options)
                {
                    var c = Run(transposeA, transposeB, m, n, k, accumulate, a, b, initial, o);
                    AssertSameBits(auto, c, $"{typeof(T).Name} {m}×{n}×{k} tA={transposeA} tB={transposeB} acc={accumulate}, {o.Kernel} {o.Path} vs Auto");
                }
            }
        }
    }

    [Fact]
    public void Every_path_and_kernel_gives_the_same_bits()
    {
        // The loop path, and each micro-kernel width, compute each element by the same operations.
        var rng = new Rng(3);
        for (var s = 0; s < 40; s++)
        {
            int m = 1 + rng.NextInt(70), n = 1 + rng.NextInt(70), k = 1 + rng.NextInt(70);
            SameBitsOnEveryPath<float>(m, n, k, includeVector512: s < 6);
            SameBitsOnEveryPath<double>(m, n, k, includeVector512: s < 6);
        }
        SameBitsOnEveryPath<float>(20, 33, 600, includeVector512: true);
        SameBitsOnEveryPath<double>(20, 17, 600, includeVector512: true);
    }

    [Theory]
    [MemberData(nameof(AllForms))]
    public void A_row_of_C_has_the_same_bits_in_a_batch_of_one_or_of_many(bool transposeA, bool transposeB)
    {
        // m = 300 takes the blocked (parallel) path; m = 1 the loop paths: the same arithmetic per element.
        const int m = 300, n = 37, k = 290;
        var rng = new Rng(300);
        var a = Random<double>(rng, m * k);
        var b = Random<double>(rng, k * n);
        var all = new double[m * n];
        Gemm.Multiply<double>(transposeA, transposeB, m, n, k, a, b, all, false);
        foreach (var i in new[] { 0, 7, 150, 299 })
        {
            var row = new double[k];
            for (var p = 0; p < k; p++)
            {
                row[p] = transposeA ? a[(p * m) + i] : a[(i * k) + p];
            }
            var one = new double[n];
            Gemm.Multiply<double>(transposeA, transposeB, 1, n, k, row, b, one, false);
            AssertSameBits(all[(i * n)..((i + 1) * n)], one, $"row {i}, tA={transposeA} tB={transposeB}");
        }
    }

    // ---- edge cases and arguments ------------------------------------------------------------------

    [Fact]
    public void A_small_product_has_the_textbook_values()
    {
        // [1 2 3; 4 5 6]·[7 8; 9 10; 11 12] = [58 64; 139 154]
        double[] a = [1, 2, 3, 4, 5, 6], b = [7, 8, 9, 10, 11, 12];
        var c = new double[4];

        Gemm.Multiply<double>(false, false, 2, 2, 3, a, b, c, accumulate: false);
        Assert.Equal([58.0, 64, 139, 154], c);

        Gemm.Multiply<double>(false, false, 2, 2, 3, a, b, c, accumulate: true);
        Assert.Equal([116.0, 128, 278, 308], c);
    }

    [Fact]
    public void An_empty_sum_zeroes_C_or_leaves_it_when_accumulating()
    {
        float[] c = [1, 2, 3, 4, 5, 6, 7];
        Gemm.Multiply<float>(false, false, 2, 3, 0, [], [], c, accumulate: true);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7], c);
        Gemm.Multiply<float>(true, true, 2, 3, 0, [], [], c, accumulate: false);
        Assert.Equal([0f, 0, 0, 0, 0, 0, 7], c);
        Gemm.Multiply<float>(false, false, 0, 3, 4, [], new float[12], c, accumulate: false);
        Gemm.Multiply<float>(false, false, 3, 0, 4, new float[12], [], c, accumulate: false);
        Assert.Equal([0f, 0, 0, 0, 0, 0, 7], c);
    }

    [Fact]
    public void Other_number_types_take_the_loop_path()
    {
        Half[] a = [(Half)1, (Half)2, (Half)3, (Half)4], b = [(Half)5, (Half)6, (Half)7, (Half)8];
        var c = new Half[4];
        Gemm.Multiply<Half>(false, false, 2, 2, 2, a, b, c, accumulate: false);
        Assert.Equal([(Half)19, (Half)22, (Half)43, (Half)50], c);
    }

    [Fact]
    public void After_warm_up_a_call_allocates_nothing()
    {
        var a = new float[300 * 300];
        var b = new float[300 * 300];
        var c = new float[300 * 300];
        void Calls()
        {
            Gemm.Multiply<float>(false, false, 3, 2, 1, a, b, c, false);                           // loops
            Gemm.Multiply<float>(true, false, 64, 64, 64, a, b, c, true, new GemmOptions(1));      // blocked, one thread
            Gemm.Multiply<float>(false, true, 300, 300, 300, a, b, c, true, new GemmOptions(2));  // blocked, parallel
            Gemm.Multiply<double>(true, true, 100, 100, 100, new double[10000], new double[10000], new double[10000], false, new GemmOptions(2, ForceParallel: true));
        }
        Calls();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Gemm.Multiply<float>(false, false, 3, 2, 1, a, b, c, false);
        Gemm.Multiply<float>(true, false, 64, 64, 64, a, b, c, true, new GemmOptions(1));
        Gemm.Multiply<float>(false, true, 300, 300, 300, a, b, c, true, new GemmOptions(2));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Spans_too_short_for_the_product_throw(bool transposeA, bool transposeB)
    {
        const int m = 3, n = 4, k = 5;
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];

        Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a.AsSpan(1), b, c, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a, b.AsSpan(1), c, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a, b, c.AsSpan(1), false));
    }

    [Theory]
    [InlineData(-1, 2, 2)]
    [InlineData(2, -1, 2)]
    [InlineData(2, 2, -1)]
    public void Negative_sizes_throw(int m, int n, int k)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply<double>(false, false, m, n, k, new double[4], new double[4], new double[4], false));

    [Fact]
    public void The_thread_limit_must_be_at_least_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.MaxDegreeOfParallelism = 0);
        Assert.True(Parallelism.MaxDegreeOfParallelism >= 1);
    }

    [Fact]
    public void The_fma_peak_is_a_positive_rate()
    {
        // No lower bound but zero: on a busy machine the measuring thread may wait for a core for
        // seconds, and a slow rate is still a rate. No machine does 100 TFLOP/s on two threads.
        foreach (var rate in new[] { FmaPeak.Measure<float>(1, milliseconds: 5), FmaPeak.Measure<double>(2, milliseconds: 5) })
        {
            Assert.True(double.IsFinite(rate) && rate > 0 && rate < 1e5, $"rate {rate} GFLOP/s");
        }
        Assert.Throws<NotSupportedException>(() => FmaPeak.Measure<Half>());
    }
}
