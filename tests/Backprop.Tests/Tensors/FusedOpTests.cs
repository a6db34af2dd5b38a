using Backprop.Nn;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>
/// The fused operations — f(x·W + b) as one op, and the squared-error losses as one op — against
/// finite differences in double and against the same computation recorded op by op.
/// </summary>
public sealed class FusedOpTests
{
    // Every registered activation, so that a new one is checked without a new line here.
    public static TheoryData<string, int, int, int> LinearCases()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var activation in LayerRegistry.Activations)
        {
            foreach (var (m, k, n) in new[] { (1, 1, 1), (3, 1, 2), (3, 2, 1), (4, 5, 3), (9, 3, 17) })
            {
                data.Add(activation.Name, m, k, n);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear_gradient_matches_finite_differences_for_input_weight_and_bias(string name, int m, int k, int n)
    {
        var activation = Activations.Parse(name);
        var rng = new Rng(21);
        var x = Uniform(rng, -2, 2, [m, k], requiresGrad: true, name: "x");
        var w = Uniform(rng, -1, 1, [k, n], requiresGrad: true, name: "w");
        // ReLU is checked away from its kink: |x·w| ≤ 2k, so biases of ±(2k + 0.2 … 1) make every
        // weighted sum of even columns positive and of odd columns negative, both branches.
        var b = Draw(rng, (r, i) => activation == Activation.Relu ? (i % 2 == 0 ? 1 : -1) * ((2 * k) + r.NextUniform(0.2, 1)) : r.NextUniform(-1, 1), [n], requiresGrad: true, name: "b");

        AssertGradientsMatch(WeightedSum(rng, () => activation.Linear(x, w, b)), x, w, b);
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear_gives_the_values_and_gradients_of_matmul_add_and_activation_recorded_separately(string name, int m, int k, int n)
    {
        var activation = Activations.Parse(name);
        var rng = new Rng(22);
        var x = Uniform(rng, -2, 2, [m, k], requiresGrad: true, name: "x");
        var w = Uniform(rng, -1, 1, [k, n], requiresGrad: true, name: "w");
        var b = Uniform(rng, -1, 1, [n], requiresGrad: true, name: "b");
        var weights = Uniform(rng, -1.5, 1.5, [m, n]);

        var fused = activation.Linear(x, w, b);
        (fused * weights).Sum().Backward();
        var fusedGrads = new[] { x, w, b }.Select(t => t.Grad!.ToDoubleArray()).ToArray();
        foreach (var t in new[] { x, w, b })
        {
            t.ZeroGrad();
        }
        var separate = activation.Apply(x.MatMul(w) + b);
        (separate * weights).Sum().Backward();

        var expected = separate.ToDoubleArray();
        var actual = fused.ToDoubleArray();
        for (var i = 0; i < expected.Length; i++)
        {
            AssertClose(expected[i], actual[i], 1e-14, $"output {i}");
        }
        var tensors = new[] { x, w, b };
        for (var t = 0; t < tensors.Length; t++)
        {
            var reference = tensors[t].Grad!.ToDoubleArray();
            for (var i = 0; i < reference.Length; i++)
            {
                AssertClose(reference[i], fusedGrads[t][i], 1e-13, $"{tensors[t].Name} gradient {i}");
            }
        }
    }

    [Fact]
    public void Linear_records_one_operation_instead_of_three()
    {
        var x = Uniform(new Rng(23), -1, 1, [3, 1]);
        var w = Uniform(new Rng(24), -1, 1, [1, 2], requiresGrad: true);
        var b = Uniform(new Rng(25), -1, 1, [2], requiresGrad: true);

        var y = Activation.SoftPlus.Linear(x, w, b);

        Assert.Equal([x, w, b], y.Creator!.Inputs);
        Assert.All(y.Creator.Inputs, input => Assert.Null(input.Creator));
    }

    [Fact]
    public void Linear_refuses_mismatched_shapes_naming_them()
    {
        var x = Tensor<double>.Zeros(3, 2);
        var e = Assert.Throws<ArgumentException>(() => x.Linear(Tensor<double>.Zeros(3, 4), Tensor<double>.Zeros(4)));
        Assert.Contains("[3, 2] and [3, 4]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => x.Linear(Tensor<double>.Zeros(2, 4), Tensor<double>.Zeros(3)));
        Assert.Contains("one row of 4 values; got shape [3]", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<bool, int[]> SquaredErrorCases()
    {
        var data = new TheoryData<bool, int[]>();
        foreach (var mean in new[] { false, true })
        {
            foreach (var shape in new int[][] { [1], [3, 1], [4, 3], [37] })
            {
                data.Add(mean, shape);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SquaredErrorCases))]
    public void Squared_error_gradient_matches_finite_differences_for_both_operands(bool mean, int[] shape)
    {
        var rng = new Rng(26);
        var predicted = Uniform(rng, -2, 2, shape, requiresGrad: true, name: "predicted");
        var observed = Uniform(rng, -2, 2, shape, requiresGrad: true, name: "observed");

        AssertGradientsMatch(() => (mean ? TensorOps.MeanSquaredError(predicted, observed) : TensorOps.SumSquaredResiduals(predicted, observed)) * 1.3, predicted, observed);
    }

    [Theory]
    [MemberData(nameof(SquaredErrorCases))]
    public void Squared_error_is_the_sum_or_mean_of_squared_residuals(bool mean, int[] shape)
    {
        var rng = new Rng(27);
        var predicted = Uniform(rng, -2, 2, shape);
        var observed = Uniform(rng, -2, 2, shape);
        var expected = predicted.ToDoubleArray().Zip(observed.ToDoubleArray(), (p, o) => (o - p) * (o - p)).Sum() / (mean ? predicted.Length : 1);

        var loss = mean ? TensorOps.MeanSquaredError(predicted, observed) : TensorOps.SumSquaredResiduals(predicted, observed);

        AssertClose(expected, loss.Item(), 1e-14, "loss");
    }

    [Fact]
    public void Squared_error_refuses_different_shapes_naming_them()
    {
        var e = Assert.Throws<ArgumentException>(() => TensorOps.SumSquaredResiduals(Tensor<double>.Zeros(3, 1), Tensor<double>.Zeros(3)));
        Assert.Contains("shape [3, 1] but observed values have shape [3]", e.Message, StringComparison.Ordinal);
    }
}
