using Backprop.Autograd;
using Backprop.Nn;
using Backprop.Tensors;
using BenchmarkDotNet.Attributes;

namespace Backprop.Benchmarks;

/// <summary>
/// Batch norm in training mode, forward and backward (input gradient included), replayed as the
/// Trainer replays a step, on 1 thread and on all of them: BatchNorm2d after the reference CNN's first
/// convolution ([128, 32, 28, 28], one channel per task on the worker pool) and BatchNorm1d on a
/// hidden layer of the MLP ([128, 1024], row by row across features).
/// <c>dotnet run -c Release --project benchmarks/Backprop.Benchmarks -- --filter '*BatchNorm*'</c>.
/// </summary>
[MemoryDiagnoser]
public class BatchNormBenchmarks
{
    private Graph<float> images = null!;
    private Graph<float> rows = null!;
    private int threads;

    /// <summary>1 for one thread, 0 for every thread the machine has.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        threads = Parallelism.MaxDegreeOfParallelism;
        Parallelism.MaxDegreeOfParallelism = Threads == 0 ? Environment.ProcessorCount : Threads;
        var rng = new Rng(3);
        images = Record(new BatchNorm2d<float>(32), Normal(rng, new Shape(128, 32, 28, 28)));
        rows = Record(new BatchNorm1d<float>(1024), Normal(rng, new Shape(128, 1024)));
    }

    [GlobalCleanup]
    public void Cleanup() => Parallelism.MaxDegreeOfParallelism = threads;

    [Benchmark]
    public void BatchNorm2dForwardBackward() => Step(images);

    [Benchmark]
    public void BatchNorm1dForwardBackward() => Step(rows);

    private static void Step(Graph<float> graph)
    {
        graph.Forward();
        graph.Backward();
    }

    private static Tensor<float> Normal(Rng rng, Shape shape)
    {
        var t = new Tensor<float>(shape, requiresGrad: true);
        for (var i = 0; i < t.Length; i++)
        {
            t.Data[i] = (float)((2 * rng.NextNormal()) + 1);
        }
        return t;
    }

    // Σ y²: a loss whose gradient differs per number, so backward does its whole work.
    private static Graph<float> Record(Module<float> layer, Tensor<float> x) => new(layer.Forward(x).Square().Sum());
}
