using System.Text.Json;
using Backprop.Cli;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// <c>backprop bench</c>. The tests run its <c>--smoke</c> mode (a few repetitions of every workload,
/// seconds) to check what it prints; how fast things are is for the bench itself, never a unit test.
/// The bench sets <see cref="Parallelism.MaxDegreeOfParallelism"/> (1 thread, then all), which every
/// test reads, so these run alone.
/// </summary>
[Collection(nameof(Optim.ThreadCountTests))]
public sealed class BenchCommandTests
{
    private static readonly string[] keys =
    [
        "statquest_us_per_step", "mlp_small_us_per_step", "mlp_ms_per_step_1t", "mlp_ms_per_step_all", "mlp_gflops_all",
        "sgemm1024_gflops_1t", "sgemm1024_gflops_all", "peak_gflops_1t", "peak_gflops_all",
        "cnn_ms_per_step_1t", "cnn_ms_per_step_all", "cnn_gflops_all",
    ];

    [Fact]
    public void Json_is_one_flat_object_with_exactly_the_twelve_figures()
    {
        var result = Run("bench", "--smoke", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stderr);
        using var document = JsonDocument.Parse(result.Stdout);
        var properties = document.RootElement.EnumerateObject().ToList();
        Assert.Equal(keys, properties.Select(p => p.Name));
        Assert.Equal(keys, BenchCommand.JsonKeys);
        foreach (var p in properties)
        {
            Assert.Equal(JsonValueKind.Number, p.Value.ValueKind);
            Assert.True(p.Value.GetDouble() > 0 && double.IsFinite(p.Value.GetDouble()), $"{p.Name} = {p.Value}");
        }
        // MLP FLOPs = 6 × parameters × batch per step, at the median step time.
        var ms = document.RootElement.GetProperty("mlp_ms_per_step_all").GetDouble();
        var gflops = document.RootElement.GetProperty("mlp_gflops_all").GetDouble();
        Assert.Equal(6.0 * 1_863_690 * 128 / (ms * 1e-3) / 1e9, gflops, 0.01 * gflops);
        // CNN FLOPs: 2 per multiply-add of the forward and gradient products (the first convolution has no input gradient).
        var cnnMs = document.RootElement.GetProperty("cnn_ms_per_step_all").GetDouble();
        var cnnGflops = document.RootElement.GetProperty("cnn_gflops_all").GetDouble();
        Assert.Equal(3_199_401_984 / (cnnMs * 1e-3) / 1e9, cnnGflops, 0.01 * cnnGflops);
    }

    [Fact]
    public void Text_gives_each_workload_its_median_and_range()
    {
        var result = Run("bench", "--smoke");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        foreach (var workload in new[] { "FMA loop peak, 1 thread", "lesson network step", "MLP 2-16-16-1 tanh step", "sgemm 1024³, 1 thread", "MLP 784-1024-1024-10 step, 1 thread", "reference CNN step, 1 thread" })
        {
            var line = Assert.Single(lines, l => l.StartsWith(workload, StringComparison.Ordinal));
            var numbers = line[44..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var (median, min, max) = (double.Parse(numbers[0], System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(numbers[1], System.Globalization.CultureInfo.InvariantCulture), double.Parse(numbers[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(min <= median && median <= max, line);
        }
        Assert.Contains("median", lines[0..4].Single(l => l.StartsWith("workload", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_option_is_one_line_and_exit_code_2()
    {
        var line = AssertBadInput(Run("bench", "--fast"));
        Assert.Contains("--fast", line, StringComparison.Ordinal);
    }
}
