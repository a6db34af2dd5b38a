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
    /// <summary>
    /// Notes the bytes this thread has allocated after each step's backward pass, after its update and
    /// at its end, so that a failure says where in the step the bytes went.
    /// </summary>
    private sealed class AllocationMonitor<T>(int steps) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public long[] AfterBackward { get; } = new long[steps];

        public long[] AfterUpdate { get; } = new long[steps];

        public long[] AtEnd { get; } = new long[steps];

        public int[] Threads { get; } = new int[steps];

        public int Count { get; private set; }

        public override void OnGradients(Trainer<T> trainer, int step, double loss, Backprop.Autograd.Graph<T> graph) => AfterBackward[Count] = GC.GetAllocatedBytesForCurrentThread();

        public override void OnStep(Trainer<T> trainer, in StepInfo info) => AfterUpdate[Count] = GC.GetAllocatedBytesForCurrentThread();

        public override void OnStepEnd(Trainer<T> trainer, int step)
        {
            AtEnd[Count] = GC.GetAllocatedBytesForCurrentThread();
            Threads[Count++] = Parallelism.MaxDegreeOfParallelism;
        }
    }

    /// <summary>What one step allocated, by part of the step.</summary>
    private readonly record struct StepBytes(int Step, long ForwardAndBackward, long Update, long Bookkeeping)
    {
        public long Total => ForwardAndBackward + Update + Bookkeeping;

        public override string ToString() => $"step {Step}: {ForwardAndBackward} B in forward and backward, {Update} B in the update, {Bookkeeping} B after it";
    }

    // Bytes allocated by each step after the first `warmup` steps.
    private static StepBytes[] AllocatedPerStep<T>(Module<T> network, Loss loss, Optimizer<T> optimizer, Tensor<T> x, Tensor<T> y, int steps, int warmup, int? batch = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = new AllocationMonitor<T>(steps);
        var threads = Parallelism.MaxDegreeOfParallelism;
        new Trainer<T>(network, loss, optimizer).Fit(x, y, new TrainingOptions { MaxSteps = steps, MinStepSize = null, BatchSize = batch }, [m]);
        // A step's first run at another thread count allocates (88 bytes when this thread first runs a
        // job with the worker pool): a test that changes the count must run alone, in ThreadCountTests.
        Assert.All(m.Threads, t => Assert.True(t == threads, $"The thread count changed from {threads} to {t} during the run: a test beside this one set it."));
        Assert.Equal(steps, m.Count);
        return [.. Enumerable.Range(warmup, steps - warmup).Select(i => new StepBytes(i + 1, m.AfterBackward[i] - m.AtEnd[i - 1], m.AfterUpdate[i] - m.AfterBackward[i], m.AtEnd[i] - m.AfterUpdate[i]))];
    }

    private static void AssertNothingAllocated(StepBytes[] steps)
        => Assert.All(steps, s => Assert.True(s.Total == 0, s.ToString()));

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

        AssertNothingAllocated(bytes);
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

        AssertNothingAllocated(bytes);
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

        AssertNothingAllocated(bytes);
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

        AssertNothingAllocated(bytes);
    }

    [Fact]
    public void A_step_of_the_reference_cnn_allocates_nothing()
    {
        // bench's "cnn" at its real size: batch 128 of 1×28×28, conv 32 and 64 (3×3, padding 1, ReLU),
        // max-pool 2 twice, dense 3136 → 128 → 10, Adam; two batch sizes (128 and a last one of 72).
        var rng = new Rng(43);
        var x = Normal<float>(rng, 200, 1, 28, 28);
        var labels = new Tensor<float>(new Shape(200));
        for (var i = 0; i < 200; i++)
        {
            labels.Data[i] = rng.NextInt(10);
        }
        var network = ReferenceCnn.Create<float>(43);

        var bytes = AllocatedPerStep(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.001), x, labels, steps: 6, warmup: 3, batch: 128);

        AssertNothingAllocated(bytes);
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

        AssertNothingAllocated(bytes);
    }
}
