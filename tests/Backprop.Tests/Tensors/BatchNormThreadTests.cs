using Backprop.Tensors;
using Backprop.Tests.Optim;

namespace Backprop.Tests.Tensors;

/// <summary>Batch normalisation over many channels runs on the worker pool: the same bits at any thread count.</summary>
[Collection(nameof(ThreadCountTests))]
public sealed class BatchNormThreadTests
{
    private static float[][] Run(int threads, int[] shape)
    {
        var saved = Parallelism.MaxDegreeOfParallelism;
        try
        {
            Parallelism.MaxDegreeOfParallelism = threads;
            var rng = new Rng(12);
            var x = new Tensor<float>(new Shape(shape), requiresGrad: true);
            for (var i = 0; i < x.Length; i++)
            {
                x[i] = (float)(rng.NextNormal() * 3 + 1);
            }
            var c = shape[1];
            var gamma = new Tensor<float>(new Shape(c), requiresGrad: true);
            gamma.Data.Fill(1.25f);
            var beta = new Tensor<float>(new Shape(c), requiresGrad: true);
            var mean = new Tensor<float>(new Shape(c));
            var variance = new Tensor<float>(new Shape(c));
            variance.Data.Fill(1);
            var weights = new Tensor<float>(new Shape(shape));
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)rng.NextUniform(-1, 1);
            }
            (x.BatchNorm(gamma, beta, mean, variance, training: true) * weights).Sum().Backward();
            var eval = x.BatchNorm(gamma, beta, mean, variance, training: false);
            return [eval.Data.ToArray(), x.Grad!.Data.ToArray(), gamma.Grad!.Data.ToArray(), beta.Grad!.Data.ToArray(), mean.Data.ToArray(), variance.Data.ToArray()];
        }
        finally
        {
            Parallelism.MaxDegreeOfParallelism = saved;
        }
    }

    [Theory]
    [InlineData(new[] { 16, 12, 16, 16 })] // 49,152 numbers: channels shared between threads
    [InlineData(new[] { 256, 200 })]        // features of rows
    public void Outputs_gradients_and_running_statistics_are_the_same_bits_on_1_2_and_3_threads(int[] shape)
    {
        var one = Run(1, shape);
        foreach (var threads in (int[])[2, 3])
        {
            var many = Run(threads, shape);
            for (var k = 0; k < one.Length; k++)
            {
                Assert.True(one[k].AsSpan().SequenceEqual(many[k]), $"array {k} differs on {threads} threads");
            }
        }
    }
}
