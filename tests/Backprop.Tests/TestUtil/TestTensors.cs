using System.Numerics;
using Backprop.Diagnostics;
using Backprop.Tensors;

namespace Backprop.Tests.TestUtil;

/// <summary>Seeded random tensors and the assertions the tensor tests share.</summary>
internal static class TestTensors
{
    /// <summary>
    /// Largest accepted <see cref="GradientComparison.RelativeError"/>. Central differences with
    /// h = 1e-6 in double are off by about 1e-16·|loss|/h ≈ 1e-10 (rounding) plus h²·f‴/6 (truncation),
    /// far below this; a wrong derivative rule is off by O(1).
    /// </summary>
    public const double GradientTolerance = 1e-7;

    /// <summary>A double tensor whose element i is <paramref name="draw"/>(rng, i).</summary>
    public static Tensor<double> Draw(Rng rng, Func<Rng, int, double> draw, int[] shape, bool requiresGrad = false, string? name = null)
    {
        var s = new Shape(shape);
        var values = new double[s.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = draw(rng, i);
        }
        return new Tensor<double>(values, s, requiresGrad) { Name = name };
    }

    /// <summary>A double tensor of uniform draws in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor<double> Uniform(Rng rng, double low, double high, int[] shape, bool requiresGrad = false, string? name = null)
        => Draw(rng, (r, _) => r.NextUniform(low, high), shape, requiresGrad, name);

    /// <summary>The same values converted to <typeparamref name="T"/>.</summary>
    public static Tensor<T> Convert<T>(Tensor<double> source, bool requiresGrad = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = source.ToDoubleArray().Select(T.CreateChecked).ToArray();
        return new Tensor<T>(values, source.Shape, requiresGrad);
    }

    /// <summary>
    /// (f(inputs) · w).Sum() for fixed random weights w of f's output shape, so that every output
    /// element sends a different gradient back.
    /// </summary>
    public static Func<Tensor<double>> WeightedSum(Rng rng, Func<Tensor<double>> f)
    {
        var weights = Uniform(rng, -1.5, 1.5, f().Shape.ToArray());
        return () => (f() * weights).Sum();
    }

    /// <summary>Asserts that back-propagation agrees with central finite differences for every element.</summary>
    public static void AssertGradientsMatch(Func<Tensor<double>> loss, params Tensor<double>[] tensors)
    {
        var comparisons = GradientCheck.Compare(loss, tensors);
        Assert.Equal(tensors.Sum(t => t.Length), comparisons.Count);
        // A check where every gradient is zero would pass whatever the rule said.
        Assert.Contains(comparisons, c => c.Numerical != 0);
        var worst = comparisons.MaxBy(c => c.RelativeError);
        Assert.True(worst.RelativeError <= GradientTolerance,
            $"{worst.Name}: backprop {worst.Backprop:R}, finite difference {worst.Numerical:R}, relative error {worst.RelativeError:E2}");
    }

    /// <summary>Asserts |actual − expected| ≤ tolerance·(|expected| + 1e-3).</summary>
    public static void AssertClose(double expected, double actual, double tolerance, string what = "value")
        => Assert.True(Math.Abs(actual - expected) <= tolerance * (Math.Abs(expected) + 1e-3),
            $"{what}: expected {expected:R}, got {actual:R}");

    /// <summary>Asserts |actual − expected| ≤ tolerance·|expected| (exact when expected is 0).</summary>
    public static void AssertRelative(double expected, double actual, double tolerance, string what = "value")
        => Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected),
            $"{what}: expected {expected:R}, got {actual:R}");

    /// <summary>Relative tolerance for comparing <typeparamref name="T"/> results with a double reference.</summary>
    public static double Tolerance<T>() => typeof(T) == typeof(float) ? 1e-6 : 1e-13;
}
