using BenchmarkDotNet.Running;

namespace Backprop.Benchmarks;

/// <summary>
/// BenchmarkDotNet benchmarks of the kernels and of training steps. Run in Release, e.g.
/// <c>dotnet run -c Release --project benchmarks/Backprop.Benchmarks -- --filter '*Gemm*'</c>;
/// <c>backprop bench</c> is the quick, self-contained comparison with the TorchSharp reference.
/// <c>-- fmnist-cnn [epochs]</c> instead trains the reference CNN on Fashion-MNIST (<see cref="FashionMnistCnn"/>).
/// </summary>
internal static class Program
{
    private static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "fmnist-cnn")
        {
            FashionMnistCnn.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
