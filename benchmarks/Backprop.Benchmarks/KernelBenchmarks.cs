using Backprop.Kernels;
using BenchmarkDotNet.Attributes;

namespace Backprop.Benchmarks;

/// <summary>C = A·B (and the transposed forms backward uses) for square float matrices.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] a = [];
    private float[] b = [];
    private float[] c = [];

    [Params(16, 64, 256, 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1);
        a = [.. Enumerable.Range(0, Size * Size).Select(_ => (float)rng.NextNormal())];
        b = [.. Enumerable.Range(0, Size * Size).Select(_ => (float)rng.NextNormal())];
        c = new float[Size * Size];
    }

    [Benchmark(Baseline = true)]
    public void AB() => Gemm.Multiply<float>(false, false, Size, Size, Size, a, b, c, accumulate: false);

    [Benchmark]
    public void ABt() => Gemm.Multiply<float>(false, true, Size, Size, Size, a, b, c, accumulate: false);

    [Benchmark]
    public void AtB() => Gemm.Multiply<float>(true, false, Size, Size, Size, a, b, c, accumulate: false);
}

/// <summary>The activation kernels, forward and backward, on float spans.</summary>
[MemoryDiagnoser]
public class ActivationBenchmarks
{
    private float[] x = [];
    private float[] y = [];
    private float[] s = [];
    private float[] dy = [];

    [Params(6, 512, 131072)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(2);
        x = [.. Enumerable.Range(0, Length).Select(_ => (float)(3 * rng.NextNormal()))];
        dy = [.. Enumerable.Range(0, Length).Select(_ => (float)rng.NextNormal())];
        y = new float[Length];
        s = new float[Length];
    }

    [Benchmark]
    public void SoftPlusWithSigmoid() => ActivationKernels.SoftPlus<float>(x, y, s);

    [Benchmark]
    public void Sigmoid() => ActivationKernels.Sigmoid<float>(x, y);

    [Benchmark]
    public void Tanh() => ActivationKernels.Tanh<float>(x, y);

    [Benchmark]
    public void Relu() => ActivationKernels.Relu<float>(x, y);

    [Benchmark]
    public void ReluBackward() => ActivationKernels.ReluBackward<float>(x, dy, y);

    [Benchmark]
    public void TanhBackward() => ActivationKernels.TanhBackward<float>(x, dy, y);

    /// <summary>What the fused tanh layer does forward: tanh and its derivative sech² kept from the input.</summary>
    [Benchmark]
    public void TanhWithDerivative() => ActivationKernels.Tanh<float>(x, y, s);

    /// <summary>What the fused tanh layer does backward: the kept derivative times dy.</summary>
    [Benchmark]
    public void MultiplyBackward() => ActivationKernels.MultiplyBackward<float>(s, dy, y);

    /// <summary>What the tanh op does backward: sech² from the input, times dy.</summary>
    [Benchmark]
    public void TanhBackwardFromInput() => ActivationKernels.TanhBackwardFromInput<float>(x, dy, y);
}
