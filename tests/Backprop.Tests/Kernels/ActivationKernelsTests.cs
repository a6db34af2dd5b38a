using System.Numerics;
using System.Runtime.InteropServices;
using Backprop.Kernels;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The activation kernels at every length from 0 to 300 (every vector width and tail), in place,
/// with special values and bad spans, against scalar formulas in double. .ci/run repeats these with
/// AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class ActivationKernelsTests
{
    private static readonly int[] lengths = [.. Enumerable.Range(0, 301)];

    // Inputs that cover both signs, tiny and large magnitudes, and the region |x| < 1/4 where tanh
    // switches to its series.
    private static double[] Inputs(int length, int seed)
    {
        var rng = new Rng((ulong)seed);
        var x = new double[length];
        for (var i = 0; i < length; i++)
        {
            x[i] = (i % 5) switch
            {
                0 => rng.NextUniform(-0.25, 0.25),
                1 => rng.NextUniform(-4, 4),
                2 => rng.NextUniform(-40, 40),
                3 => rng.NextUniform(-1e-6, 1e-6),
                _ => rng.NextUniform(-1, 1),
            };
        }
        return x;
    }

    private static T[] As<T>(double[] values) where T : IFloatingPointIeee754<T> => [.. values.Select(T.CreateChecked)];

    // The scalar formulas (max(x, 0) + log1p(e^−|x|) and σ from e^−|x|), themselves checked against
    // the direct formulas in Tensors/StabilityTests.
    private static double SoftPlus(double x) => StableMath.SoftPlus(x);

    private static double Sigmoid(double x) => StableMath.Sigmoid(x);

    /// <summary>Relative error allowed against the double formula: a few ulps of T.</summary>
    private static double Ulps<T>(int n) => n * (typeof(T) == typeof(float) ? 6e-8 : 1.2e-16);

    private static void AssertClose<T>(double expected, T actual, double tolerance, string what) where T : IFloatingPointIeee754<T>
    {
        var a = double.CreateChecked(actual);
        // Float results are compared with the double formula of the float input; below float's
        // normal range only an absolute difference makes sense.
        var scale = Math.Max(Math.Abs(expected), typeof(T) == typeof(float) ? 1e-37 : 1e-300);
        Assert.True(Math.Abs(a - expected) <= tolerance * scale, $"{what}: expected {expected:R}, got {a:R}");
    }

    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (var n in lengths)
        {
            data.Add(n);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Tanh_in_one_pass_gives_the_bits_of_the_pass_by_pass_kernel(int length)
    {
        // Lengths past one chunk of 256 too, where the last chunk can be shorter than a vector. Float only:
        // double never takes the one-pass path (and TensorPrimitives' double e^x of a vector holding ±∞ or
        // NaN changes its other lanes, so two double runs agree only where their vectors do).
        foreach (var n in (int[])[length, length + 256, length + 512])
        {
            SameTanhBits<float>(n);
        }
    }

    // ActivationKernels.Tanh (one pass where the SIMD path applies) against TensorPrimitives.Tanh and
    // TensorPrimitives.Exp chunk by chunk (TanhInPasses), bit for bit: tanh, sech² and in place.
    private static void SameTanhBits<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = As<T>(Inputs(length, length + 17));
        T[] specials = [T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Zero, -T.Zero, T.Epsilon, -T.Epsilon, T.CreateChecked(0.25), T.CreateChecked(-0.25), T.CreateChecked(1e-30), T.CreateChecked(30), T.CreateChecked(-400)];
        for (var i = 0; i < length; i += 7)
        {
            x[i] = specials[i / 7 % specials.Length];
        }
        var (expected, expectedDerivative, t) = (new T[length], new T[length], new T[256]);
        for (var start = 0; start < length; start += 256)
        {
            var n = Math.Min(256, length - start);
            ActivationKernels.TanhInPasses<T>(x.AsSpan(start, n), t.AsSpan(0, n), expected.AsSpan(start, n), expectedDerivative.AsSpan(start, n));
        }
        var (y, derivative) = (new T[length], new T[length]);
        ActivationKernels.Tanh<T>(x, y, derivative);
        AssertSameBits(expected, y, $"tanh, {typeof(T).Name}, length {length}");
        AssertSameBits(expectedDerivative, derivative, $"sech², {typeof(T).Name}, length {length}");
        ActivationKernels.Tanh<T>(x, y);
        AssertSameBits(expected, y, $"tanh without sech², {typeof(T).Name}, length {length}");
        var inPlace = (T[])x.Clone();
        ActivationKernels.Tanh<T>(inPlace, inPlace, derivative);
        AssertSameBits(expected, inPlace, $"tanh in place, {typeof(T).Name}, length {length}");
        AssertSameBits(expectedDerivative, derivative, $"sech² of tanh in place, {typeof(T).Name}, length {length}");
    }

    private static void AssertSameBits<T>(T[] expected, T[] actual, string what) where T : unmanaged
    {
        if (!MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan())))
        {
            var i = Enumerable.Range(0, expected.Length).First(i => !MemoryMarshal.AsBytes(expected.AsSpan(i, 1)).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan(i, 1))));
            Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Forward_kernels_match_the_scalar_formulas_at_every_length(int length)
    {
        Forward<double>(length);
        Forward<float>(length);
    }

    private static void Forward<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = As<T>(Inputs(length, length));
        var y = new T[length];
        var s = new T[length];

        ActivationKernels.SoftPlus<T>(x, y, s);
        for (var i = 0; i < length; i++)
        {
            var xi = double.CreateChecked(x[i]);
            AssertClose(SoftPlus(xi), y[i], Ulps<T>(8), $"SoftPlus({xi:R}) at {i} of {length}");
            AssertClose(Sigmoid(xi), s[i], Ulps<T>(8), $"SoftPlus' σ({xi:R}) at {i} of {length}");
        }

        ActivationKernels.Sigmoid<T>(x, y);
        for (var i = 0; i < length; i++)
        {
            var xi = double.CreateChecked(x[i]);
            AssertClose(Sigmoid(xi), y[i], Ulps<T>(8), $"σ({xi:R}) at {i} of {length}");
        }

        ActivationKernels.Tanh<T>(x, y);
        for (var i = 0; i < length; i++)
        {
            var xi = double.CreateChecked(x[i]);
            AssertClose(Math.Tanh(xi), y[i], Ulps<T>(8), $"tanh({xi:R}) at {i} of {length}");
        }

        ActivationKernels.Relu<T>(x, y);
        for (var i = 0; i < length; i++)
        {
            Assert.Equal(x[i] > T.Zero ? x[i] : T.Zero, y[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Derivative_kernels_give_exactly_the_scalar_formula_written_or_added(int length)
    {
        Derivatives<double>(length);
        Derivatives<float>(length);
    }

    private static void Derivatives<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = As<T>(Inputs(length, length + 1000));
        var dy = As<T>(Inputs(length, length + 2000));
        var start = As<T>(Inputs(length, length + 3000));
        var cases = new (string Name, Action<T[], T[], T[], bool> Kernel, Func<T, T, T> Formula)[]
        {
            ("relu", (a, b, d, acc) => ActivationKernels.ReluBackward<T>(a, b, d, acc), (yi, g) => yi > T.Zero ? g : T.Zero),
            ("tanh", (a, b, d, acc) => ActivationKernels.TanhBackward<T>(a, b, d, acc), (yi, g) => g * (T.One - (yi * yi))),
            ("sigmoid", (a, b, d, acc) => ActivationKernels.SigmoidBackward<T>(a, b, d, acc), (yi, g) => g * yi * (T.One - yi)),
            ("multiply", (a, b, d, acc) => ActivationKernels.MultiplyBackward<T>(a, b, d, acc), (si, g) => g * si),
        };
        foreach (var (name, kernel, formula) in cases)
        {
            var written = new T[length];
            kernel(y, dy, written, false);
            var added = (T[])start.Clone();
            kernel(y, dy, added, true);
            for (var i = 0; i < length; i++)
            {
                Assert.True(formula(y[i], dy[i]).Equals(written[i]), $"{name} at {i} of {length}: {formula(y[i], dy[i])} vs {written[i]}");
                Assert.True((formula(y[i], dy[i]) + start[i]).Equals(added[i]), $"{name} accumulated at {i} of {length}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(300)]
    public void Kernels_work_in_place(int length)
    {
        InPlace<double>(length);
        InPlace<float>(length);
    }

    private static void InPlace<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = As<T>(Inputs(length, 7));
        var kernels = new (string Name, Action<T[], T[]> Kernel)[]
        {
            ("softplus", (a, d) => ActivationKernels.SoftPlus<T>(a, d)),
            ("softplus with σ", (a, d) => ActivationKernels.SoftPlus<T>(a, d, new T[a.Length])),
            ("sigmoid", (a, d) => ActivationKernels.Sigmoid<T>(a, d)),
            ("tanh", (a, d) => ActivationKernels.Tanh<T>(a, d)),
            ("relu", (a, d) => ActivationKernels.Relu<T>(a, d)),
            ("relu backward", (a, d) => ActivationKernels.ReluBackward<T>(a, (T[])x.Clone(), d)),
            ("tanh backward", (a, d) => ActivationKernels.TanhBackward<T>(a, (T[])x.Clone(), d)),
        };
        foreach (var (name, kernel) in kernels)
        {
            var expected = new T[length];
            kernel((T[])x.Clone(), expected);
            var inPlace = (T[])x.Clone();
            kernel(inPlace, inPlace);
            Assert.True(expected.AsSpan().SequenceEqual(inPlace), $"{name} in place differs at length {length}");
        }
    }

    [Fact]
    public void Special_values_follow_the_functions_limits()
    {
        Special<double>();
        Special<float>();
    }

    private static void Special<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Each value once at the start of a vector, and repeated so that it also falls in a tail.
        T[] values = [T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.NegativeZero, T.Zero, T.CreateChecked(400), T.CreateChecked(-400), T.CreateChecked(1e-30), T.CreateChecked(-1e-30)];
        var x = new T[values.Length * 4];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = values[i % values.Length];
        }
        var y = new T[x.Length];
        var s = new T[x.Length];

        ActivationKernels.SoftPlus<T>(x, y, s);
        ActivationKernels.Sigmoid<T>(x, s.AsSpan());
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            if (T.IsNaN(v))
            {
                Assert.True(T.IsNaN(y[i]) && T.IsNaN(s[i]), "NaN stays NaN");
            }
            else if (T.IsPositiveInfinity(v))
            {
                Assert.Equal(T.PositiveInfinity, y[i]);
                Assert.Equal(T.One, s[i]);
            }
            else if (T.IsNegativeInfinity(v))
            {
                Assert.Equal(T.Zero, y[i]);
                Assert.Equal(T.Zero, s[i]);
            }
            else if (v == T.CreateChecked(400))
            {
                Assert.Equal(v, y[i]);
                Assert.Equal(T.One, s[i]);
            }
            else if (v == T.CreateChecked(-400))
            {
                // e^−400 ≈ 1.9e-174: a double holds it, a float rounds it to 0; never NaN.
                AssertClose(typeof(T) == typeof(double) ? Math.Exp(-400) : 0, y[i], 1e-13, "SoftPlus(−400)");
                AssertClose(typeof(T) == typeof(double) ? Math.Exp(-400) : 0, s[i], 1e-13, "σ(−400)");
            }
            else
            {
                // 0, −0 and ±1e-30: log 2 and 1/2 (to rounding).
                AssertClose(Math.Log(2), y[i], Ulps<T>(4), $"SoftPlus({v})");
                AssertClose(0.5, s[i], Ulps<T>(4), $"σ({v})");
            }
        }

        ActivationKernels.Tanh<T>(x, y);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = T.Tanh(x[i]);
            Assert.True(T.IsNaN(expected) ? T.IsNaN(y[i]) : expected == y[i] && T.IsNegative(expected) == T.IsNegative(y[i]), $"tanh({x[i]}) = {y[i]}, expected {expected}");
        }

        ActivationKernels.Relu<T>(x, y);
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            if (T.IsNaN(v))
            {
                Assert.True(T.IsNaN(y[i]), "ReLU keeps NaN, so a broken weight shows in the loss");
            }
            else
            {
                Assert.Equal(v > T.Zero ? v : T.Zero, y[i]);
                Assert.False(T.IsNegative(y[i]), $"ReLU({v}) is not negative zero");
            }
        }
    }

    [Fact]
    public void A_too_short_destination_is_refused()
    {
        var x = new double[10];
        var e = Assert.Throws<ArgumentException>(() => ActivationKernels.SoftPlus<double>(x, new double[9]));
        Assert.Contains("holds 9 elements; 10 are needed", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ActivationKernels.Tanh<double>(x, new double[9]));
        Assert.Throws<ArgumentException>(() => ActivationKernels.Relu<double>(x, new double[9]));
        Assert.Throws<ArgumentException>(() => ActivationKernels.ReluBackward<double>(x, x, new double[9]));
    }

    [Fact]
    public void Inputs_of_different_lengths_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationKernels.TanhBackward<double>(new double[4], new double[5], new double[5]));
        Assert.Contains("different lengths (4 and 5)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_destination_that_partly_overlaps_an_input_is_refused()
    {
        var buffer = new double[20];
        var e = Assert.Throws<ArgumentException>(() => ActivationKernels.Sigmoid<double>(buffer.AsSpan(0, 10), buffer.AsSpan(1, 10)));
        Assert.Contains("overlaps", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ActivationKernels.SoftPlus<double>(buffer.AsSpan(0, 10), new double[10], buffer.AsSpan(5, 10)));
    }
}
