using Backprop.Autograd;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using BenchmarkDotNet.Attributes;

namespace Backprop.Benchmarks;

/// <summary>
/// One training step (forward, loss, backward, update) of the standard workloads, on a graph
/// recorded once and replayed, as the Trainer runs it. MemoryDiagnoser shows it allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private Step<double> lesson = null!;
    private Step<float> smallMlp = null!;
    private Step<float> mlp = null!;
    private Step<float> cnn = null!;

    [GlobalSetup]
    public void Setup()
    {
        var network = Lesson.CreateNetwork<double>();
        lesson = Record(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1),
            Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>());

        var rng = new Rng(7);
        var x = Normal(rng, 32, 2);
        var y = new Tensor<float>(new Shape(32, 1));
        for (var i = 0; i < 32; i++)
        {
            y.Data[i] = MathF.Sin(x.Data[2 * i] * x.Data[(2 * i) + 1]);
        }
        var small = Sequential<float>.Mlp([2, 16, 16, 1], Activation.Tanh);
        new XavierInitializer(7).Initialize(small);
        smallMlp = Record(small, new MeanSquaredError(), new GradientDescent<float>(small.Parameters(), 0.01), x, y);

        var images = Normal(rng, 128, 784);
        var labels = new Tensor<float>(new Shape(128));
        for (var i = 0; i < 128; i++)
        {
            labels.Data[i] = rng.NextInt(10);
        }
        var large = Sequential<float>.Mlp([784, 1024, 1024, 10], Activation.Relu);
        new HeInitializer(42).Initialize(large);
        mlp = Record(large, new CrossEntropy(), new GradientDescent<float>(large.Parameters(), 0.01), images, labels);

        // The reference CNN (bench's "cnn"): batch 128 of 1×28×28, Adam lr 0.001.
        var pictures = new Tensor<float>(new Shape(128, 1, 28, 28));
        for (var i = 0; i < pictures.Length; i++)
        {
            pictures.Data[i] = (float)rng.NextNormal();
        }
        var network2 = ReferenceCnn.Create<float>(42);
        cnn = Record(network2, new CrossEntropy(), new Adam<float>(network2.Parameters(), 0.001), pictures, labels);
    }

    [Benchmark]
    public void LessonStep() => lesson.Run();

    [Benchmark]
    public void SmallMlpStep() => smallMlp.Run();

    [Benchmark]
    public void MlpStep() => mlp.Run();

    [Benchmark]
    public void CnnStep() => cnn.Run();

    private static Tensor<float> Normal(Rng rng, int rows, int columns)
    {
        var t = new Tensor<float>(new Shape(rows, columns));
        for (var i = 0; i < t.Length; i++)
        {
            t.Data[i] = (float)rng.NextNormal();
        }
        return t;
    }

    private static Step<T> Record<T>(Module<T> network, Loss loss, Optimizer<T> optimizer, Tensor<T> x, Tensor<T> y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => new(new Graph<T>(loss.Compute(network.Forward(x), y)), optimizer);

    /// <summary>A recorded step: replay forward, zero the gradients, backward, update.</summary>
    private sealed class Step<T>(Graph<T> graph, Optimizer<T> optimizer) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public void Run()
        {
            graph.Forward();
            optimizer.ZeroGrad();
            graph.Backward();
            optimizer.Step();
        }
    }
}
