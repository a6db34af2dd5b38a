using System.Numerics;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>SoftPlus, sigmoid and cross-entropy at extreme inputs: finite values, right gradients.</summary>
public sealed class StabilityTests
{
    // Results that are representable must be accurate to a few units in the last place.
    private const double Relative = 1e-15;

    private static (T Value, T Gradient) SoftPlusAt<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Tensor<T>.Scalar(x, requiresGrad: true);
        var y = t.SoftPlus();
        y.Backward();
        return (y.Item(), t.Grad!.Item());
    }

    private static (T Value, T Gradient) SigmoidAt<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Tensor<T>.Scalar(x, requiresGrad: true);
        var y = t.Sigmoid();
        y.Backward();
        return (y.Item(), t.Grad!.Item());
    }

    [Theory]
    [InlineData(400.0)]
    [InlineData(1000.0)]
    [InlineData(40.0)]
    public void SoftPlus_of_a_large_input_is_the_input_with_gradient_one(double x)
    {
        Assert.Equal((x, 1.0), SoftPlusAt(x));
        Assert.Equal(((float)x, 1f), SoftPlusAt((float)x));
    }

    [Theory]
    [InlineData(-400.0)]
    [InlineData(-40.0)]
    [InlineData(-700.0)]
    public void SoftPlus_of_a_very_negative_input_keeps_e_to_the_x_in_double(double x)
    {
        // log(1 + eˣ) = eˣ − e²ˣ/2 + …, and σ(x) = eˣ − e²ˣ + …: both eˣ to double precision here.
        var (value, gradient) = SoftPlusAt(x);

        AssertRelative(Math.Exp(x), value, Relative, "softplus");
        AssertRelative(Math.Exp(x), gradient, Relative, "d softplus/dx");
    }

    [Fact]
    public void SoftPlus_far_below_the_smallest_double_or_float_is_zero_not_nan()
    {
        Assert.Equal((0.0, 0.0), SoftPlusAt(-1000.0));
        Assert.Equal((0f, 0f), SoftPlusAt(-400f));
    }

    [Fact]
    public void SoftPlus_in_float_keeps_small_values_that_float_can_hold()
    {
        var (value, gradient) = SoftPlusAt(-80f);

        AssertRelative(Math.Exp(-80), value, 1e-6, "softplus");
        AssertRelative(Math.Exp(-80), gradient, 1e-6, "d softplus/dx");
    }

    [Theory]
    [InlineData(400.0)]
    [InlineData(1000.0)]
    public void Sigmoid_of_a_large_input_is_one_with_a_finite_gradient_below_e_to_the_minus_x(double x)
    {
        var (value, gradient) = SigmoidAt(x);
        var (valueF, gradientF) = SigmoidAt((float)x);

        Assert.Equal(1.0, value);
        Assert.Equal(1f, valueF);
        // σ′(x) = e⁻ˣ/(1 + e⁻ˣ)² lies in [0, e⁻ˣ]; it is not representable Relative to σ(x) = 1.
        Assert.InRange(gradient, 0.0, Math.Exp(-x));
        Assert.InRange(gradientF, 0f, 1e-30f);
    }

    [Theory]
    [InlineData(-400.0)]
    [InlineData(-40.0)]
    public void Sigmoid_of_a_very_negative_input_keeps_e_to_the_x_in_double(double x)
    {
        var (value, gradient) = SigmoidAt(x);

        AssertRelative(Math.Exp(x), value, Relative, "sigmoid");
        // σ′(x) = σ(x)(1 − σ(x)) = eˣ(1 − eˣ) + …
        AssertRelative(Math.Exp(x), gradient, Relative, "d sigmoid/dx");
    }

    [Fact]
    public void Sigmoid_far_below_the_smallest_double_or_float_is_zero_not_nan()
    {
        Assert.Equal((0.0, 0.0), SigmoidAt(-1000.0));
        Assert.Equal((0f, 0f), SigmoidAt(-400f));
    }

    public static TheoryData<double> ExtremeScales() => [400.0, 1000.0];

    [Theory]
    [MemberData(nameof(ExtremeScales))]
    public void CrossEntropy_of_extreme_logits_is_finite_with_gradient_softmax_minus_onehot(double scale)
    {
        CheckExtremeCrossEntropy<double>(scale);
        CheckExtremeCrossEntropy<float>(scale);
    }

    private static void CheckExtremeCrossEntropy<T>(double s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Each row is [s, −s, 0] in some order; the targets are classes 1, 2, 0.
        double[] rows = [s, -s, 0, -s, s, 0, 0, -s, s];
        int[] labels = [1, 2, 0];
        var logits = Tensor<T>.FromArray([.. rows.Select(T.CreateChecked)], 3, 3);
        logits.RequiresGrad = true;
        var target = Tensor<T>.FromArray([.. labels.Select(l => T.CreateChecked(l))], 3);

        var loss = logits.SoftmaxCrossEntropy(target);
        loss.Backward();

        // Every row's log-sum-exp is s; the losses are s − (−s), s − 0 and s − 0.
        AssertClose(4 * s / 3, double.CreateChecked(loss.Item()), Tolerance<T>(), $"{typeof(T).Name} loss");
        var gradient = logits.Grad!.ToDoubleArray();
        for (var i = 0; i < 3; i++)
        {
            var softmax = Softmax(rows.AsSpan(i * 3, 3));
            for (var c = 0; c < 3; c++)
            {
                var expected = (softmax[c] - (c == labels[i] ? 1 : 0)) / 3;
                AssertClose(expected, gradient[(i * 3) + c], Tolerance<T>(), $"{typeof(T).Name} dL/dz[{i},{c}]");
            }
        }
    }

    public static TheoryData<int> TargetClasses() => [0, 1, 2];

    [Theory]
    [MemberData(nameof(TargetClasses))]
    public void CrossEntropy_of_400_minus_400_and_0_gives_the_exact_loss_and_gradient(int label)
    {
        CheckRow<double>(label, 400);
        CheckRow<float>(label, 400);
        CheckRow<double>(label, 1000);
    }

    private static void CheckRow<T>(int label, double s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[] z = [s, -s, 0];
        var logits = Tensor<T>.FromArray([.. z.Select(T.CreateChecked)], 1, 3);
        logits.RequiresGrad = true;
        var target = Tensor<T>.FromArray([T.CreateChecked(label)], 1);

        var loss = logits.SoftmaxCrossEntropy(target);
        loss.Backward();

        // −log softmax(z)[label] = lse(z) − z[label], and lse(z) = s to double precision.
        var value = double.CreateChecked(loss.Item());
        Assert.True(double.IsFinite(value));
        Assert.Equal(s - z[label], value);
        var softmax = Softmax(z);
        var gradient = logits.Grad!.ToDoubleArray();
        Assert.All(gradient, g => Assert.True(double.IsFinite(g)));
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(softmax[c] - (c == label ? 1 : 0), gradient[c], 1e-15);
        }
        if (typeof(T) == typeof(double) && s == 400)
        {
            // The probability of the middle logit is e⁻⁴⁰⁰, kept to full Relative precision.
            AssertRelative(Math.Exp(-400) - (label == 2 ? 1 : 0), gradient[2], Relative, "dL/dz[2]");
        }
    }

    [Fact]
    public void CrossEntropy_with_probability_targets_at_extreme_logits_is_finite()
    {
        var logits = Tensor<double>.FromArray([400, -400, 0], 1, 3);
        logits.RequiresGrad = true;
        var target = Tensor<double>.FromArray([0.5, 0.5, 0], 1, 3);

        var loss = logits.SoftmaxCrossEntropy(target);
        loss.Backward();

        // ½(400 − 400) + ½(400 + 400) = 400; gradient p − t = [½, −½, e⁻⁴⁰⁰].
        Assert.Equal(400.0, loss.Item());
        var gradient = logits.Grad!.ToDoubleArray();
        Assert.Equal(0.5, gradient[0]);
        Assert.Equal(-0.5, gradient[1]);
        AssertRelative(Math.Exp(-400), gradient[2], Relative, "dL/dz[2]");
    }

    // softmax(z) computed from the row maximum, in double.
    private static double[] Softmax(ReadOnlySpan<double> z)
    {
        var max = double.NegativeInfinity;
        foreach (var v in z)
        {
            max = Math.Max(max, v);
        }
        var e = new double[z.Length];
        var total = 0.0;
        for (var c = 0; c < z.Length; c++)
        {
            e[c] = Math.Exp(z[c] - max);
            total += e[c];
        }
        return [.. e.Select(v => v / total)];
    }

    [Theory]
    [InlineData(1e-20)]
    [InlineData(-1e-20)]
    [InlineData(1e-300)]
    [InlineData(3e-16)]
    [InlineData(1e-12)]
    [InlineData(1e-8)]
    [InlineData(-1e-6)]
    [InlineData(1e-4)]
    public void Log1P_is_accurate_for_tiny_arguments(double u)
    {
        // log(1 + u) = u − u²/2 + u³/3 − u⁴/4 + …; four terms are exact to double precision for |u| ≤ 1e-4.
        var expected = u - (u * u / 2) + (u * u * u / 3) - (u * u * u * u / 4);

        AssertRelative(expected, StableMath.Log1P(u), Relative, $"Log1P({u})");
    }

    [Fact]
    public void Log1P_of_tiny_arguments_in_float_and_ordinary_arguments()
    {
        Assert.Equal(1e-20f, StableMath.Log1P(1e-20f));
        const float small = 1e-7f;
        AssertRelative(small - ((double)small * small / 2), StableMath.Log1P(small), Tolerance<float>(), "Log1P(1e-7f)");
        AssertRelative(Math.Log(1.5), StableMath.Log1P(0.5), Relative, "Log1P(0.5)");
        AssertRelative(Math.Log(0.25), StableMath.Log1P(-0.75), Relative, "Log1P(-0.75)");
        Assert.Equal(double.NegativeInfinity, StableMath.Log1P(-1.0));
        Assert.Equal(double.PositiveInfinity, StableMath.Log1P(double.PositiveInfinity));
    }

    [Fact]
    public void SoftPlus_and_Sigmoid_helpers_agree_with_the_direct_formula_where_it_is_safe()
    {
        // Below about −2, 1 + eˣ rounds away the digits of the direct formula itself.
        foreach (var x in new[] { -2.0, -0.5, 0.0, 0.5, 3.0, 20.0 })
        {
            AssertRelative(Math.Log(1 + Math.Exp(x)), StableMath.SoftPlus(x), 1e-14, $"SoftPlus({x})");
            AssertRelative(1 / (1 + Math.Exp(-x)), StableMath.Sigmoid(x), 1e-15, $"Sigmoid({x})");
        }
    }
}
