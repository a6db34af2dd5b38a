using Backprop.Autograd;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Nn;

/// <summary>The BatchNorm1d and BatchNorm2d layers: parameters and buffers, modes, checks, messages.</summary>
public sealed class BatchNormTests
{
    [Fact]
    public void Gamma_beta_and_the_running_statistics_start_as_in_pytorch_and_are_named_after_the_layer()
    {
        var network = new Sequential<float>(new Dense<float>(2, 3), new BatchNorm1d<float>(3));
        var norm = (BatchNorm1d<float>)network.Layers[1];

        Assert.Equal([1f, 1f, 1f], norm.Weight.Data.ToArray());
        Assert.Equal([0f, 0f, 0f], norm.Bias.Data.ToArray());
        Assert.Equal([0f, 0f, 0f], norm.RunningMean.Data.ToArray());
        Assert.Equal([1f, 1f, 1f], norm.RunningVar.Data.ToArray());
        Assert.Equal(["layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias"], network.Parameters().Select(p => p.Name));
        Assert.Equal(["layer1.runningMean", "layer1.runningVar"], network.Buffers().Select(b => b.Name));
        Assert.Equal((0.1, 1e-5), (norm.Momentum, norm.Epsilon));
        Assert.Equal("Dense(2 → 3, Identity) → BatchNorm1d(3)", network.Describe());
        Assert.Equal("BatchNorm2d(8, momentum 0.01, eps 0.001)", new BatchNorm2d<float>(8, 0.01, 1e-3).Describe());
    }

    [Fact]
    public void Training_updates_the_running_statistics_and_evaluation_uses_them()
    {
        var norm = new BatchNorm2d<double>(2);
        var x = Uniform(new Rng(2), -1, 3, [3, 2, 2, 2]);
        var (mean, variance) = (Tensor<double>.Zeros(2), Tensor<double>.FromArray([1, 1], 2));
        using (GradMode.NoGrad())
        {
            var trained = norm.Forward(x);
            Assert.Equal(x.BatchNorm(norm.Weight, norm.Bias, mean, variance, training: true).ToDoubleArray(), trained.ToDoubleArray());
            Assert.Equal(mean.ToDoubleArray(), norm.RunningMean.ToDoubleArray());
            Assert.Equal(variance.ToDoubleArray(), norm.RunningVar.ToDoubleArray());

            norm.Eval();
            var evaluated = norm.Forward(x);
            Assert.Equal(x.BatchNorm(norm.Weight, norm.Bias, mean, variance, training: false).ToDoubleArray(), evaluated.ToDoubleArray());
            Assert.Equal(mean.ToDoubleArray(), norm.RunningMean.ToDoubleArray());
            Assert.NotEqual(trained.ToDoubleArray(), evaluated.ToDoubleArray());
        }
    }

    [Fact]
    public void A_network_with_batch_norm_passes_the_gradient_check_in_training_and_keeps_its_running_statistics()
    {
        var rng = new Rng(7);
        var network = new Sequential<double>(new Dense<double>(3, 4), new BatchNorm1d<double>(4), new ActivationLayer<double>(Activation.Tanh), new Dense<double>(4, 2));
        new XavierInitializer(7).Initialize(network);
        var x = Uniform(rng, -1, 1, [6, 3]);
        var y = Uniform(rng, -1, 1, [6, 2]);
        var before = network.Buffers().SelectMany(b => b.ToDoubleArray()).ToArray();

        var rows = GradientCheck.Check(network, new MeanSquaredError(), x, y);

        Assert.True(rows.Max(r => r.RelativeError) <= GradientTolerance, $"worst {rows.MaxBy(r => r.RelativeError)}");
        Assert.Equal(before, network.Buffers().SelectMany(b => b.ToDoubleArray()));
        network.Eval();
        rows = GradientCheck.Check(network, new MeanSquaredError(), x, y);
        Assert.True(rows.Max(r => r.RelativeError) <= GradientTolerance, $"worst in evaluation {rows.MaxBy(r => r.RelativeError)}");
    }

    [Fact]
    public void BatchNorm2d_gradients_through_the_layer_match_finite_differences()
    {
        var rng = new Rng(8);
        var norm = new BatchNorm2d<double>(3);
        Uniform(rng, 0.5, 1.5, [3]).Data.CopyTo(norm.Weight.Data);
        var x = Uniform(rng, -2, 2, [2, 3, 3, 2], requiresGrad: true, name: "x");

        AssertGradientsMatch(WeightedSum(rng, () => norm.Forward(x)), x, norm.Weight, norm.Bias);
    }

    public static TheoryData<Func<object>, string> BadArguments() => new()
    {
        { () => new BatchNorm1d<double>(0), "Batch normalisation needs at least one feature or channel; got 0." },
        { () => new BatchNorm2d<double>(3, momentum: -0.1), "The batch-norm momentum must be between 0 and 1; got -0.1." },
        { () => new BatchNorm1d<double>(3, epsilon: -1), "The batch-norm epsilon must be a positive number; got -1." },
        { () => new BatchNorm1d<double>(3).Forward(Tensor<double>.Zeros(2, 4)), "Layer batchnorm (BatchNorm1d(3)) takes rows [N, F] with 3 at dimension 1; it was given shape [2, 4]." },
        { () => new BatchNorm1d<double>(3).Forward(Tensor<double>.Zeros(2, 3, 2, 2)), "Layer batchnorm (BatchNorm1d(3)) takes rows [N, F] with 3 at dimension 1; it was given shape [2, 3, 2, 2]." },
        { () => new Sequential<double>(new Dense<double>(2, 3), new BatchNorm2d<double>(3)).Forward(Tensor<double>.Zeros(2, 2)), "Layer layer1 (BatchNorm2d(3)) takes images [N, C, H, W] with 3 at dimension 1; it was given shape [2, 3]." },
        { () => new BatchNorm1d<double>(3).Forward(Tensor<double>.Zeros(1, 3)), "Batch normalisation in training needs more than one value per channel; shape [1, 3] has one (use batches of at least 2 rows)." },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Bad_arguments_are_refused_in_one_line(Func<object> call, string message)
    {
        var e = Assert.Throws<BackpropException>(call);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void One_row_is_fine_in_evaluation()
    {
        var norm = new BatchNorm1d<double>(3);
        norm.Eval();
        Assert.Equal([0, 1 / Math.Sqrt(1 + 1e-5), 0], norm.Forward(Tensor<double>.FromRows([[0, 1, 0]])).ToDoubleArray());
    }
}
