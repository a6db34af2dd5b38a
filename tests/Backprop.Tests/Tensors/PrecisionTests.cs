using System.Numerics;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>The same network-like expression in float and double agrees to float precision.</summary>
public sealed class PrecisionTests
{
    private sealed record Result(double Loss, double[] W, double[] B);

    // Σ tanh(x·W + b) ⊙ V: a dense layer, its activation and a weighted sum.
    private static Result Run<T>(Tensor<double> x, Tensor<double> w, Tensor<double> b, Tensor<double> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var wt = Convert<T>(w, requiresGrad: true);
        var bt = Convert<T>(b, requiresGrad: true);
        var loss = ((Convert<T>(x).MatMul(wt) + bt).Tanh() * Convert<T>(v)).Sum();
        loss.Backward();
        return new(double.CreateChecked(loss.Item()), wt.Grad!.ToDoubleArray(), bt.Grad!.ToDoubleArray());
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(8, 3, 4)]
    [InlineData(32, 17, 9)]
    public void Float_and_double_agree_to_float_precision(int rows, int inputs, int outputs)
    {
        var rng = new Rng(61);
        // Values that float holds exactly, so that only the arithmetic differs.
        Tensor<double> Floats(int[] shape) => Draw(rng, (r, _) => (float)r.NextUniform(-1, 1), shape);
        var x = Floats([rows, inputs]);
        var w = Floats([inputs, outputs]);
        var b = Floats([outputs]);
        var v = Floats([rows, outputs]);

        var single = Run<float>(x, w, b, v);
        var full = Run<double>(x, w, b, v);

        // Each pre-activation takes inputs + 1 float roundings of terms at most 1 in size, tanh and the
        // products a few more (u = 2⁻²⁴ each); the loss adds rows·outputs such terms, a gradient rows.
        var u = Math.ScaleB(1.0, -24);
        var perTerm = u * (inputs + 6);
        Assert.Equal(full.Loss, single.Loss, perTerm * rows * outputs);
        for (var i = 0; i < full.W.Length; i++)
        {
            Assert.Equal(full.W[i], single.W[i], perTerm * rows);
        }
        for (var i = 0; i < full.B.Length; i++)
        {
            Assert.Equal(full.B[i], single.B[i], perTerm * rows);
        }
        Assert.NotEqual(0.0, full.Loss);
    }
}
