using Backprop.Nn;
using Backprop.Tensors;
using Backprop.Tests.Optim;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Convolution and pooling share their images and planes out to the worker pool: the same bits at any
/// thread count. These tests set <see cref="Parallelism.MaxDegreeOfParallelism"/>, so they run alone
/// (<see cref="ThreadCountTests"/>): a test running beside them would otherwise train at their thread
/// count, and theirs at its.
/// </summary>
[Collection(nameof(ThreadCountTests))]
public sealed class ConvPoolThreadTests
{
    [Fact]
    public void Conv2d_gives_the_same_bits_at_any_thread_count_forward_and_backward()
    {
        // 37 images: groups of unequal size; padding, stride 1 and a second channel.
        var rng = new Rng(8);
        var x = Convert<float>(Uniform(rng, -1, 1, [37, 2, 9, 8]), requiresGrad: true);
        var w = Convert<float>(Uniform(rng, -1, 1, [5, 2, 3, 3]), requiresGrad: true);
        var b = Convert<float>(Uniform(rng, -1, 1, [5]), requiresGrad: true);
        var weights = Convert<float>(Uniform(rng, -1, 1, [37, 5, 9, 8]));

        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(int threads) => ParallelStepTests.WithThreads(threads, () =>
        {
            x.ZeroGrad();
            w.ZeroGrad();
            b.ZeroGrad();
            var y = x.Conv2d(w, b, 1, 1);
            (y * weights).Sum().Backward();
            return (y.Data.ToArray(), x.Grad!.Data.ToArray(), w.Grad!.Data.ToArray(), b.Grad!.Data.ToArray());
        });

        var one = Run(1);
        foreach (var threads in new[] { 2, 3, 8 })
        {
            var many = Run(threads);
            Assert.Equal(one.Y, many.Y);
            Assert.Equal(one.Dx, many.Dx);
            Assert.Equal(one.Dw, many.Dw);
            Assert.Equal(one.Db, many.Db);
        }
    }

    [Fact]
    public void Every_image_reaches_an_input_gradient_that_the_workers_allocate_on_first_use()
    {
        // A fresh input has no gradient array yet: the images' tasks, on two threads, make it on first
        // use. Each round must give the one-thread gradient (with a racing allocation, one image's
        // gradient went into an array that was then dropped, and read as zeros, in about 1 round in 20).
        var rng = new Rng(11);
        var source = Uniform(rng, -1, 1, [2, 2, 5, 4]);
        var w = Uniform(rng, -1, 1, [3, 2, 3, 3]);
        var b = Uniform(rng, -0.5, 0.5, [3]);
        var weights = Uniform(rng, -1.5, 1.5, [2, 3, 5, 4]);
        double[] InputGradient(int threads) => ParallelStepTests.WithThreads(threads, () =>
        {
            var x = new Tensor<double>(source.ToDoubleArray(), source.Shape, requiresGrad: true);
            (TensorOps.Conv2d<double, Backprop.Nn.ReluRule<double>>(x, w, b, 1, 1) * weights).Sum().Backward();
            return x.Grad!.ToDoubleArray();
        });

        var expected = InputGradient(1);
        Assert.Contains(expected.Take(40), v => v != 0);
        Assert.Contains(expected.Skip(40), v => v != 0);
        for (var round = 0; round < 200; round++)
        {
            Assert.Equal(expected, InputGradient(2));
        }
    }

    [Fact]
    public void Pooling_gives_the_same_bits_at_any_thread_count()
    {
        // 82,944 elements in 36 planes: enough to be shared out between threads.
        var x = Convert<float>(PoolOpTests.Distinct([9, 4, 48, 48], 5), requiresGrad: true);
        var w = Convert<float>(Uniform(new Rng(6), -1, 1, [9, 4, 24, 24]));

        float[] Run(int threads) => ParallelStepTests.WithThreads(threads, () =>
        {
            x.ZeroGrad();
            ((x.MaxPool2d(2) * w).Sum() + (x.AvgPool2d(2) * w).Sum()).Backward();
            return x.Grad!.Data.ToArray();
        });

        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(5));
    }
}
