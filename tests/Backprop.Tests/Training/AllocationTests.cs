using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// After warm-up, a training step (forward, loss, backward, update, the trainer's own bookkeeping)
/// allocates nothing on the training thread: the graph is recorded once and replayed.
/// </summary>
public sealed class AllocationTests
{
    /// <summary>Notes the bytes this thread has allocated at the end of every step.</summary>
    private sealed class AllocationMonitor<T>(int steps) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public long[] Bytes { get; } = new long[steps];

        public int Count { get; private set; }

        public override void OnStep(Trainer<T> trainer, in StepInfo info) => Bytes[Count++] = GC.GetAllocatedBytesForCurrentThread();
    }

    // Bytes allocated by each step after the first `warmup` steps.
    private static long[] AllocatedPerStep<T>(Module<T> network, Loss loss, Optimizer<T> optimizer, Tensor<T> x, Tensor<T> y, int steps, int warmup, int? batch = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var monitor = new AllocationMonitor<T>(steps);
        new Trainer<T>(network, loss, optimizer).Fit(x, y, new TrainingOptions { MaxSteps = steps, MinStepSize = null, BatchSize = batch }, [monitor]);
        Assert.Equal(steps, monitor.Count);
        return [.. Enumerable.Range(warmup, steps - warmup).Select(i => monitor.Bytes[i] - monitor.Bytes[i - 1])];
    }

    private static Tensor<T> Normal<T>(Rng rng, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(shape));
        for (var i = 0; i < t.Length; i++)
        {
            t.Data[i] = T.CreateChecked(rng.NextNormal());
        }
        return t;
    }

    [Fact]
    public void A_step_of_the_lessons_network_allocates_nothing()
    {
        var network = Lesson.CreateNetwork<double>();

        var bytes = AllocatedPerStep(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1),
            Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), steps: 200, warmup: 10);

        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_step_of_a_2_16_16_1_tanh_mlp_allocates_nothing(string optimizer)
    {
        var rng = new Rng(7);
        var x = Normal<float>(rng, 32, 2);
        var y = Normal<float>(rng, 32, 1);
        var network = Sequential<float>.Mlp([2, 16, 16, 1], Activation.Tanh);
        new XavierInitializer(7).Initialize(network);

        var bytes = AllocatedPerStep(network, new MeanSquaredError(), Optimizer<float>.Create(optimizer, network.Parameters(), 0.01), x, y, steps: 100, warmup: 10);

        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_mini_batch_step_allocates_nothing_once_every_batch_size_is_recorded()
    {
        var rng = new Rng(8);
        var x = Normal<double>(rng, 10, 2);
        var y = Normal<double>(rng, 10, 1);
        var network = Sequential<double>.Mlp([2, 4, 1], Activation.SoftPlus);
        new XavierInitializer(8).Initialize(network);

        // Batches of 4, 4, 2: both sizes are recorded in the first epoch.
        var bytes = AllocatedPerStep(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.01), x, y, steps: 60, warmup: 6, batch: 4);

        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_step_of_the_784_1024_1024_10_relu_cross_entropy_mlp_allocates_nothing()
    {
        // The standard large workload at its real size and batch (bench's "mlp"): few steps, each is a real GEMM-sized step.
        var rng = new Rng(42);
        var x = Normal<float>(rng, 128, 784);
        var labels = new Tensor<float>(new Shape(128));
        for (var i = 0; i < 128; i++)
        {
            labels.Data[i] = rng.NextInt(10);
        }
        var network = Sequential<float>.Mlp([784, 1024, 1024, 10], Activation.Relu);
        new HeInitializer(42).Initialize(network);

        var bytes = AllocatedPerStep(network, new CrossEntropy(), new GradientDescent<float>(network.Parameters(), 0.01), x, labels, steps: 5, warmup: 2);

        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_mini_batch_step_with_batch_norm_and_dropout_allocates_nothing()
    {
        // New dropout masks and running statistics every step, into the arrays of the recorded graphs.
        var rng = new Rng(9);
        var x = Normal<float>(rng, 50, 6);
        var labels = new Tensor<float>(new Shape(50));
        for (var i = 0; i < 50; i++)
        {
            labels.Data[i] = rng.NextInt(3);
        }
        var network = new Sequential<float>(
            new Dense<float>(6, 32), new BatchNorm1d<float>(32), new ActivationLayer<float>(Activation.Relu), new Dropout<float>(0.3, 2), new Dense<float>(32, 3));
        new HeInitializer(9).Initialize(network);

        // Batches of 16, 16, 16, 2.
        var bytes = AllocatedPerStep(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.01), x, labels, steps: 40, warmup: 8, batch: 16);

        Assert.All(bytes, b => Assert.Equal(0, b));
    }
}
