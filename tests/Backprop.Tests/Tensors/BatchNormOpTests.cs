using Backprop.Autograd;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Batch normalisation: derivatives against finite differences in both modes, values and running
/// statistics against PyTorch's semantics worked by hand, replays, bad arguments.
/// </summary>
public sealed class BatchNormOpTests
{
    private static (Tensor<double> Gamma, Tensor<double> Beta, Tensor<double> Mean, Tensor<double> Var) Settings(Rng rng, int channels) => (
        Uniform(rng, 0.5, 1.5, [channels], requiresGrad: true, name: "gamma"),
        Uniform(rng, -0.5, 0.5, [channels], requiresGrad: true, name: "beta"),
        Uniform(rng, -1, 1, [channels], name: "runningMean"),
        Uniform(rng, 0.5, 2, [channels], name: "runningVar"));

    public static TheoryData<int[], bool> Cases() => new()
    {
        { [5, 3], true },
        { [2, 4], true },
        { [4, 3, 2, 3], true },
        { [3, 2, 5], true },
        { [1, 2, 2, 2], true },
        { [5, 3], false },
        { [1, 3], false },
        { [2, 3, 2, 2], false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_gradients_match_finite_differences(int[] shape, bool training)
    {
        var rng = new Rng(31);
        var x = Uniform(rng, -2, 3, shape, requiresGrad: true, name: "x");
        var (gamma, beta, mean, variance) = Settings(rng, shape[1]);

        AssertGradientsMatch(WeightedSum(rng, () => x.BatchNorm(gamma, beta, mean, variance, training)), x, gamma, beta);
    }

    [Fact]
    public void Features_are_normalised_with_the_batch_statistics_and_the_running_ones_follow_pytorch()
    {
        // Feature 0: 1, 2, 3, 6 → mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5, unbiased 14/3.
        // Feature 1: 0, 0, 4, 4 → mean 2, biased variance 4, unbiased 16/3.
        var x = Tensor<double>.FromRows([[1, 0], [2, 0], [3, 4], [6, 4]]);
        var gamma = Tensor<double>.FromArray([2, 1], 2);
        var beta = Tensor<double>.FromArray([0, 10], 2);
        var mean = Tensor<double>.Zeros(2);
        var variance = Tensor<double>.FromArray([1, 1], 2);

        var y = x.BatchNorm(gamma, beta, mean, variance, training: true);

        double s0 = 1 / Math.Sqrt(3.5 + 1e-5), s1 = 1 / Math.Sqrt(4 + 1e-5);
        double[] expected = [2 * -2 * s0, 10 - (2 * s1), 2 * -1 * s0, 10 - (2 * s1), 0, 10 + (2 * s1), 2 * 3 * s0, 10 + (2 * s1)];
        for (var i = 0; i < expected.Length; i++)
        {
            AssertClose(expected[i], y[i], 1e-14, $"y[{i}]");
        }
        // running = 0.9 · running + 0.1 · batch value (the variance unbiased).
        AssertClose(0.3, mean[0], 1e-15, "running mean 0");
        AssertClose(0.2, mean[1], 1e-15, "running mean 1");
        AssertClose((0.9 * 1) + (0.1 * 14 / 3.0), variance[0], 1e-15, "running var 0");
        AssertClose((0.9 * 1) + (0.1 * 16 / 3.0), variance[1], 1e-15, "running var 1");
    }

    [Fact]
    public void Channels_of_images_pool_every_pixel_of_every_image()
    {
        // [2 images, 2 channels, 1 × 2 pixels]. Channel 0 holds 1, 3 and 5, 7: mean 4, biased variance 5,
        // unbiased 20/3. Channel 1 holds 2, 2 and 2, 2: variance 0, so its outputs are β.
        var x = Tensor<double>.FromArray([1, 3, 2, 2, 5, 7, 2, 2], 2, 2, 1, 2);
        var gamma = Tensor<double>.FromArray([1, 1], 2);
        var beta = Tensor<double>.FromArray([0, 0.5], 2);
        var mean = Tensor<double>.Zeros(2);
        var variance = Tensor<double>.FromArray([1, 1], 2);

        var y = x.BatchNorm(gamma, beta, mean, variance, training: true, momentum: 0.5);

        var s = 1 / Math.Sqrt(5 + 1e-5);
        double[] expected = [-3 * s, -1 * s, 0.5, 0.5, s, 3 * s, 0.5, 0.5];
        for (var i = 0; i < expected.Length; i++)
        {
            AssertClose(expected[i], y[i], 1e-14, $"y[{i}]");
        }
        AssertClose(2, mean[0], 1e-15, "running mean 0");
        AssertClose(1, mean[1], 1e-15, "running mean 1");
        AssertClose((0.5 * 1) + (0.5 * 20 / 3.0), variance[0], 1e-15, "running var 0");
        AssertClose(0.5, variance[1], 1e-15, "running var 1");
    }

    [Fact]
    public void Evaluation_uses_the_running_statistics_and_leaves_them_alone()
    {
        var x = Tensor<double>.FromRows([[1, 0], [3, 4]]);
        var gamma = Tensor<double>.FromArray([2, 1], 2);
        var beta = Tensor<double>.FromArray([1, 0], 2);
        var mean = Tensor<double>.FromArray([0.5, -1], 2);
        var variance = Tensor<double>.FromArray([4, 0.25], 2);

        var y = x.BatchNorm(gamma, beta, mean, variance, training: false);

        double s0 = 1 / Math.Sqrt(4 + 1e-5), s1 = 1 / Math.Sqrt(0.25 + 1e-5);
        double[] expected = [1 + (2 * 0.5 * s0), 1 * s1, 1 + (2 * 2.5 * s0), 5 * s1];
        for (var i = 0; i < expected.Length; i++)
        {
            AssertClose(expected[i], y[i], 1e-14, $"y[{i}]");
        }
        Assert.Equal([0.5, -1], mean.ToDoubleArray());
        Assert.Equal([4, 0.25], variance.ToDoubleArray());
    }

    [Fact]
    public void A_replayed_evaluation_graph_reads_the_running_statistics_afresh_and_allocates_nothing()
    {
        var rng = new Rng(4);
        var x = Uniform(rng, -1, 1, [6, 3, 2, 2], requiresGrad: true);
        var (gamma, beta, mean, variance) = Settings(rng, 3);
        var graph = new Graph<double>(x.BatchNorm(gamma, beta, mean, variance, training: false).Sum());
        graph.Backward();
        var before = graph.Root.Item();

        mean.Data.Clear();
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        graph.Forward();
        graph.Backward();
        bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;

        Assert.NotEqual(before, graph.Root.Item());
        using (GradMode.NoGrad())
        {
            Assert.Equal(x.BatchNorm(gamma, beta, mean, variance, training: false).Sum().Item(), graph.Root.Item());
        }
        Assert.Equal(0, bytes);
    }

    [Fact]
    public void Float_agrees_with_double()
    {
        var rng = new Rng(6);
        var x = Uniform(rng, -3, 5, [8, 4, 3, 3]);
        var (gamma, beta, mean, variance) = Settings(rng, 4);
        var expected = x.BatchNorm(gamma, beta, mean, variance, training: true);

        var y = Convert<float>(x).BatchNorm(Convert<float>(gamma), Convert<float>(beta), Convert<float>(mean), Convert<float>(variance), training: true);

        for (var i = 0; i < y.Length; i++)
        {
            AssertClose(expected[i], y[i], 2e-5, $"y[{i}]");
        }
    }

    public static TheoryData<Func<Tensor<double>>, string> BadArguments()
    {
        var c3 = Tensor<double>.Zeros(3);
        var c2 = Tensor<double>.Zeros(2);
        var x = Tensor<double>.Zeros(4, 3);
        return new()
        {
            { () => Tensor<double>.Zeros(3).BatchNorm(c3, c3, c3, c3, true), "Batch normalisation needs rows and channels ([N, C] or [N, C, H, W]); it was given shape [3]." },
            { () => x.BatchNorm(c2, c3, c3, c3, true), "Batch normalisation of 3 channels needs a gamma of shape [3]; it was given [2]." },
            { () => x.BatchNorm(c3, c3, c3, Tensor<double>.Zeros(1, 3), true), "Batch normalisation of 3 channels needs a running variance of shape [3]; it was given [1, 3]." },
            { () => Tensor<double>.Zeros(1, 3).BatchNorm(c3, c3, c3, c3, true), "Batch normalisation in training needs more than one value per channel; shape [1, 3] has one (use batches of at least 2 rows)." },
            { () => x.BatchNorm(c3, c3, c3, c3, true, momentum: 1.5), "The batch-norm momentum must be between 0 and 1; got 1.5." },
            { () => x.BatchNorm(c3, c3, c3, c3, true, momentum: double.NaN), "The batch-norm momentum must be between 0 and 1; got NaN." },
            { () => x.BatchNorm(c3, c3, c3, c3, true, epsilon: 0), "The batch-norm epsilon must be a positive number; got 0." },
            { () => x.BatchNorm(c3, c3, c3, c3, true, epsilon: double.PositiveInfinity), "The batch-norm epsilon must be a positive number; got Infinity." },
        };
    }

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Bad_arguments_are_refused_in_one_line(Func<Tensor<double>> call, string message)
    {
        var e = Assert.Throws<BackpropException>(() => call());
        Assert.Equal(message, e.Message);
    }
}
