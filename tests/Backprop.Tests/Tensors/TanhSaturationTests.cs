using System.Numerics;
using Backprop.Nn;
using Backprop.Tensors;
using Backprop.Tests.TestUtil;

namespace Backprop.Tests.Tensors;

/// <summary>
/// tanh's derivative where tanh saturates (|x| = 1 … 20), through the element-wise op and the fused
/// dense op, against a 400-bit reference: neither may take it as 1 − y², which cancels near ±1
/// (7.6e-8 relative at |x| ≈ 10 in double; 0 in float, where y rounds to 1).
/// </summary>
public sealed class TanhSaturationTests
{
    private static double[] Points => [.. Enumerable.Range(1, 20).SelectMany(x => new double[] { x, -x })];

    private static double Ulp<T>() => typeof(T) == typeof(float) ? 6e-8 : 1.2e-16;

    private static void AssertSechSquared<T>(Tensor<T> x, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grad = x.Grad!.ToDoubleArray();
        for (var i = 0; i < Points.Length; i++)
        {
            var reference = HighPrecision.SechSquared((long)Points[i], 1);
            Assert.True(Math.Abs(grad[i] - reference) <= 6 * Ulp<T>() * reference, $"{what}: d tanh/dx at {Points[i]} = {grad[i]:R}, reference {reference:R}");
        }
    }

    private static Tensor<T> Input<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => new([.. Points.Select(T.CreateChecked)], new Shape(Points.Length, 1), requiresGrad: true);

    [Fact]
    public void The_tanh_op_keeps_its_derivative_where_tanh_saturates()
    {
        ElementWise<double>();
        ElementWise<float>();
    }

    private static void ElementWise<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Input<T>();
        x.Tanh().Sum().Backward();
        AssertSechSquared(x, $"tanh op ({typeof(T).Name})");
    }

    [Fact]
    public void The_fused_tanh_layer_keeps_its_derivative_where_tanh_saturates()
    {
        Fused<double>();
        Fused<float>();
    }

    private static void Fused<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Input<T>();
        var w = new Tensor<T>([T.One], new Shape(1, 1), requiresGrad: true);
        var b = new Tensor<T>([T.Zero], new Shape(1), requiresGrad: true);
        var y = Activation.Tanh.Linear(x, w, b);
        y.Sum().Backward();
        AssertSechSquared(x, $"fused tanh layer ({typeof(T).Name})");
        var values = y.ToDoubleArray();
        for (var i = 0; i < Points.Length; i++)
        {
            var reference = HighPrecision.Tanh((long)Points[i], 1);
            Assert.True(Math.Abs(values[i] - reference) <= 4 * Ulp<T>(), $"tanh({Points[i]}) = {values[i]:R}, reference {reference:R}");
        }
    }
}
