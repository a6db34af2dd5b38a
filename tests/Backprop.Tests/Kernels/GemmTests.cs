using System.Numerics;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>Gemm against a naive triple loop: every small size, all transpose forms, float and double.</summary>
public sealed class GemmTests
{
    private const int MaxSize = 20;
    private const int Guard = 5;

    // Relative to Σₚ|op(A)ᵢₚ·op(B)ₚⱼ| (+|C₀| when accumulating), the scale rounding errors grow with.
    private static double Tolerance<T>() => typeof(T) == typeof(float) ? 1e-5 : 1e-12;

    private static T[] Random<T>(Rng rng, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = T.CreateChecked(rng.NextUniform(-1, 1));
        }
        return values;
    }

    /// <summary>Random A, B and starting C, with double copies for the reference loop, and the output C.</summary>
    private sealed class Operands<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Operands(Rng rng, int lengthA, int lengthB, int lengthC)
        {
            A = Random<T>(rng, lengthA);
            B = Random<T>(rng, lengthB);
            Initial = Random<T>(rng, lengthC + Guard);
            C = new T[Initial.Length];
            AD = [.. A.Select(double.CreateChecked)];
            BD = [.. B.Select(double.CreateChecked)];
            InitialD = [.. Initial.Select(double.CreateChecked)];
        }

        public T[] A { get; }
        public T[] B { get; }
        public T[] Initial { get; }
        public T[] C { get; }
        public double[] AD { get; }
        public double[] BD { get; }
        public double[] InitialD { get; }
    }

    /// <summary>Runs Gemm on exactly sized A and B and a C with guard elements after m·n, and checks all of C.</summary>
    private static void Check<T>(bool transposeA, bool transposeB, int m, int n, int k, bool accumulate, Operands<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, b, initial, c) = (x.A, x.B, x.Initial, x.C);
        initial.CopyTo(c, 0);
        Gemm.Multiply<T>(transposeA, transposeB, m, n, k, a.AsSpan(0, m * k), b.AsSpan(0, k * n), c.AsSpan(0, (m * n) + Guard), accumulate);

        var tolerance = Tolerance<T>();
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var start = accumulate ? x.InitialD[(i * n) + j] : 0;
                double expected = start, scale = Math.Abs(start);
                for (var p = 0; p < k; p++)
                {
                    var aip = transposeA ? x.AD[(p * m) + i] : x.AD[(i * k) + p];
                    var bpj = transposeB ? x.BD[(j * k) + p] : x.BD[(p * n) + j];
                    expected += aip * bpj;
                    scale += Math.Abs(aip * bpj);
                }
                var actual = double.CreateChecked(c[(i * n) + j]);
                if (!(Math.Abs(actual - expected) <= tolerance * scale))
                {
                    Assert.Fail($"{typeof(T).Name} transposeA={transposeA} transposeB={transposeB} m={m} n={n} k={k} accumulate={accumulate}: "
                        + $"C[{i},{j}] = {actual:R}, expected {expected:R}");
                }
            }
        }
        if (!c.AsSpan(m * n).SequenceEqual(initial.AsSpan(m * n)))
        {
            Assert.Fail($"m={m} n={n} k={k}: an element beyond C was overwritten");
        }
    }

    private static void CheckAllSmallSizes<T>(bool transposeA, bool transposeB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var operands = new Operands<T>(new Rng(51), MaxSize * MaxSize, MaxSize * MaxSize, MaxSize * MaxSize);
        for (var m = 0; m <= MaxSize; m++)
        {
            for (var n = 0; n <= MaxSize; n++)
            {
                for (var k = 0; k <= MaxSize; k++)
                {
                    Check(transposeA, transposeB, m, n, k, accumulate: false, operands);
                    Check(transposeA, transposeB, m, n, k, accumulate: true, operands);
                }
            }
        }
    }

    public static TheoryData<bool, bool> Forms() => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Forms))]
    public void Every_size_up_to_20_matches_the_triple_loop_in_double(bool transposeA, bool transposeB)
        => CheckAllSmallSizes<double>(transposeA, transposeB);

    [Theory]
    [MemberData(nameof(Forms))]
    public void Every_size_up_to_20_matches_the_triple_loop_in_float(bool transposeA, bool transposeB)
        => CheckAllSmallSizes<float>(transposeA, transposeB);

    public static TheoryData<int, int, int> LargerSizes() => new() { { 67, 33, 45 }, { 33, 67, 1 }, { 1, 45, 67 }, { 45, 1, 33 }, { 129, 65, 31 } };

    [Theory]
    [MemberData(nameof(LargerSizes))]
    public void Larger_odd_sizes_match_the_triple_loop(int m, int n, int k)
    {
        CheckSizes<double>(m, n, k);
        CheckSizes<float>(m, n, k);
    }

    private static void CheckSizes<T>(int m, int n, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var operands = new Operands<T>(new Rng(52), m * k, k * n, m * n);
        foreach (var (transposeA, transposeB) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            Check(transposeA, transposeB, m, n, k, accumulate: false, operands);
            Check(transposeA, transposeB, m, n, k, accumulate: true, operands);
        }
    }

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
}
