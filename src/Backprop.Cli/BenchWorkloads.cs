using System.Diagnostics;
using System.Globalization;
using Backprop.Data;
using Backprop.Kernels;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>How many repetitions each workload gets: the full run, <c>--quick</c> (under 30 s) or the test-only smoke run.</summary>
internal sealed record BenchPlan(int LessonBlocks, int SmallBlocks, int StepsPerBlock, int MlpWarmup, int MlpSteps, int SgemmRuns, int PeakRuns, int PeakMilliseconds,
    int CnnWarmup, int CnnSteps)
{
    public static BenchPlan Full { get; } = new(21, 21, 1000, 5, 50, 30, 7, 200, 5, 20);

    public static BenchPlan Quick { get; } = new(7, 7, 1000, 2, 10, 8, 3, 150, 2, 6);

    /// <summary>Seconds at most: checks that every workload runs and reports, not how fast.</summary>
    public static BenchPlan Smoke { get; } = new(2, 2, 20, 0, 2, 1, 2, 5, 0, 2);
}

/// <summary>
/// The standard workloads, as the TorchSharp reference benchmark (shared/anchors/torchsharp) runs them,
/// each returning one sample per repetition.
/// </summary>
internal static class BenchWorkloads
{
    /// <summary>Parameters of the 784-1024-1024-10 MLP.</summary>
    public const long MlpParameters = (784 * 1024) + 1024 + (1024 * 1024) + 1024 + (1024 * 10) + 10;

    /// <summary>The lesson's network, float64, full batch (3 rows), SSR, gradient descent lr 0.1: µs per step, one sample per step.</summary>
    public static List<double> Lesson(BenchPlan plan)
    {
        var (x, y) = (Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>());
        return Blocks(plan.LessonBlocks, plan.StepsPerBlock, () =>
        {
            var network = Nn.Lesson.CreateNetwork<double>();
            return (new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1)), x, y);
        });
    }

    /// <summary>MLP 2-16-16-1 tanh, float32, batch 32, MSE, gradient descent lr 0.01: µs per step, one sample per step.</summary>
    public static List<double> SmallMlp(BenchPlan plan)
    {
        var rng = new Rng(7);
        var x = Normal<float>(rng, 32, 2);
        var y = new Tensor<float>(new Shape(32, 1));
        for (var i = 0; i < 32; i++)
        {
            y.Data[i] = MathF.Sin(x.Data[2 * i] * x.Data[(2 * i) + 1]);
        }
        return Blocks(plan.SmallBlocks, plan.StepsPerBlock, () =>
        {
            var network = Sequential<float>.Mlp([2, 16, 16, 1], Activation.Tanh);
            new XavierInitializer(7).Initialize(network);
            return (new Trainer<float>(network, new MeanSquaredError(), new GradientDescent<float>(network.Parameters(), 0.01)), x, y);
        });
    }

    /// <summary>MLP 784-1024-1024-10 ReLU, float32, batch 128, cross-entropy, gradient descent lr 0.01: ms per step, one sample per step.</summary>
    public static List<double> Mlp(BenchPlan plan)
    {
        var (trainer, x, labels) = MlpTrainer();
        var clock = new StepClock<float>(plan.MlpWarmup + plan.MlpSteps);
        trainer.Fit(x, labels, new TrainingOptions { MaxSteps = plan.MlpWarmup + plan.MlpSteps, MinStepSize = null }, [clock]);
        return StepMilliseconds(clock.Ticks, clock.Count, plan.MlpWarmup);
    }

    /// <summary>
    /// The <c>mlp</c> workload's trainer and batch: 784-1024-1024-10 ReLU with He starting values (seed 42),
    /// 128 rows of normal inputs and their labels (seed 42), cross-entropy, gradient descent lr 0.01.
    /// </summary>
    public static (Trainer<float> Trainer, Tensor<float> X, Tensor<float> Labels) MlpTrainer()
    {
        var rng = new Rng(42);
        var x = Normal<float>(rng, 128, 784);
        var labels = new Tensor<float>(new Shape(128));
        for (var i = 0; i < 128; i++)
        {
            labels.Data[i] = rng.NextInt(10);
        }
        var network = Sequential<float>.Mlp([784, 1024, 1024, 10], Activation.Relu);
        new HeInitializer(42).Initialize(network);
        return (new Trainer<float>(network, new CrossEntropy(), new GradientDescent<float>(network.Parameters(), 0.01)), x, labels);
    }

    /// <summary>
    /// Each step's time in ms from the timestamps taken at the end of <paramref name="count"/> steps, the
    /// first <paramref name="warmup"/> left out: step i's time is from the end of step i − 1 to the end of
    /// step i, so the first step (recording, not a step) never counts.
    /// </summary>
    public static List<double> StepMilliseconds(long[] ticks, int count, int warmup)
    {
        var samples = new List<double>();
        for (var i = Math.Max(warmup, 1); i < count; i++)
        {
            samples.Add(Stopwatch.GetElapsedTime(ticks[i - 1], ticks[i]).TotalMilliseconds);
        }
        return samples;
    }

    /// <summary>
    /// Floating-point operations of one training step of <see cref="ReferenceCnn"/> on 128 images:
    /// 2 per multiply-add, for the forward product and the two gradient products of each layer (the
    /// first convolution needs no input gradient).
    /// </summary>
    public static double CnnFlopsPerStep
    {
        get
        {
            const double n = 128;
            double conv1 = 2 * n * 32 * (28 * 28) * 9, conv2 = 2 * n * 64 * (14 * 14) * (32 * 9);
            double dense1 = 2 * n * 3136 * 128, dense2 = 2 * n * 128 * 10;
            return (2 * conv1) + (3 * conv2) + (3 * dense1) + (3 * dense2);
        }
    }

    /// <summary>The reference CNN, float32, batch 128 of 1×28×28 normal inputs, cross-entropy, Adam lr 0.001: ms per step, one sample per step.</summary>
    public static List<double> Cnn(BenchPlan plan)
    {
        var rng = new Rng(42);
        var x = new Tensor<float>(new Shape(128, 1, 28, 28));
        for (var i = 0; i < x.Length; i++)
        {
            x.Data[i] = (float)rng.NextNormal();
        }
        var labels = new Tensor<float>(new Shape(128));
        for (var i = 0; i < 128; i++)
        {
            labels.Data[i] = rng.NextInt(10);
        }
        var network = ReferenceCnn.Create<float>(42);
        var trainer = new Trainer<float>(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.001));
        var clock = new StepClock<float>(plan.CnnWarmup + plan.CnnSteps);
        trainer.Fit(x, labels, new TrainingOptions { MaxSteps = plan.CnnWarmup + plan.CnnSteps, MinStepSize = null }, [clock]);
        return StepMilliseconds(clock.Ticks, clock.Count, plan.CnnWarmup);
    }

    /// <summary>C = A·B for 1024×1024 float matrices: GFLOP/s, one sample per product.</summary>
    public static List<double> Sgemm(BenchPlan plan)
    {
        const int n = 1024;
        var rng = new Rng(1);
        var a = Normal<float>(rng, n, n).Data.ToArray();
        var b = Normal<float>(rng, n, n).Data.ToArray();
        var c = new float[n * n];
        Gemm.Multiply<float>(false, false, n, n, n, a, b, c, accumulate: false);
        var samples = new List<double>();
        for (var r = 0; r < plan.SgemmRuns; r++)
        {
            var start = Stopwatch.GetTimestamp();
            Gemm.Multiply<float>(false, false, n, n, n, a, b, c, accumulate: false);
            samples.Add(2.0 * n * n * n / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
        }
        return samples;
    }

    /// <summary>The FMA loop (float) on <paramref name="threads"/> threads: GFLOP/s, one sample per run.</summary>
    public static List<double> Peak(BenchPlan plan, int threads)
        => [.. Enumerable.Range(0, plan.PeakRuns).Select(_ => FmaPeak.Measure<float>(threads, plan.PeakMilliseconds))];

    /// <summary>The median of <paramref name="samples"/> (NaN when there are none).</summary>
    public static double Median(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>One line of bench's table: what was measured, the median, min and max of <paramref name="samples"/>, the unit and the number of samples.</summary>
    public static string Row(string what, List<double> samples, string unit)
        => string.Create(CultureInfo.InvariantCulture,
            $"{what,-44} {F(Median(samples)),10} {F(samples.Min()),10} {F(samples.Max()),10}  {unit,-10} {samples.Count}");

    private static string F(double v) => v.ToString(v >= 100 ? "F1" : v >= 1 ? "F3" : "G3", CultureInfo.InvariantCulture);

    // One warm-up block, then `blocks` blocks of `steps` steps from a fresh network; a sample is one step's
    // time (end of the previous step to the end of this one; a block's first step records the graph and is
    // left out), as the TorchSharp reference times each step: the median is then robust to the steps
    // a busy machine preempts.
    private static List<double> Blocks<T>(int blocks, int steps, Func<(Trainer<T> Trainer, Tensor<T> X, Tensor<T> Y)> create)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var samples = new List<double>();
        for (var r = -1; r < blocks; r++)
        {
            var (trainer, x, y) = create();
            var clock = new StepClock<T>(steps);
            trainer.Fit(x, y, new TrainingOptions { MaxSteps = steps, MinStepSize = null }, [clock]);
            for (var i = 1; r >= 0 && i < clock.Count; i++)
            {
                samples.Add(Stopwatch.GetElapsedTime(clock.Ticks[i - 1], clock.Ticks[i]).TotalMicroseconds);
            }
        }
        return samples;
    }

    private static Tensor<T> Normal<T>(Rng rng, int rows, int columns) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(rows, columns));
        for (var i = 0; i < t.Length; i++)
        {
            t.Data[i] = T.CreateChecked(rng.NextNormal());
        }
        return t;
    }

    /// <summary>Notes the time at the end of every step: no allocation, one timestamp per step.</summary>
    private sealed class StepClock<T>(int steps) : TrainingMonitor<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public long[] Ticks { get; } = new long[steps];

        public int Count { get; private set; }

        public override void OnStep(Trainer<T> trainer, in StepInfo info) => Ticks[Count++] = Stopwatch.GetTimestamp();
    }
}
