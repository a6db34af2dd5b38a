using BenchmarkDotNet.Running;

namespace Backprop.Benchmarks;

/// <summary>
/// BenchmarkDotNet benchmarks of the kernels and of training steps. Run in Release, e.g.
/// <c>dotnet run -c Release --project benchmarks/Backprop.Benchmarks -- --filter '*Gemm*'</c>;
/// <c>backprop bench</c> is the quick, self-contained comparison with the TorchSharp reference.
/// </summary>
internal static class Program
{
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
