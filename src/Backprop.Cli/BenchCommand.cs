using System.CommandLine;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text.Json;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop bench</c>: runs the standard workloads (the lesson's network, the small and the large
/// MLP, the reference CNN, a 1024³ float GEMM, the FMA peak) and prints, for each, the median and min–max over repeated
/// runs; <c>--json</c> prints one flat object of medians.
/// </summary>
/// <remarks>
/// The workloads are those of the TorchSharp reference benchmark (shared/anchors/torchsharp), so the
/// figures can be compared with it measured in the same session.
/// </remarks>
internal sealed class BenchCommand(TextWriter stdout)
{
    /// <summary>The keys of <c>--json</c>, in order.</summary>
    public static readonly string[] JsonKeys =
    [
        "statquest_us_per_step", "mlp_small_us_per_step", "mlp_ms_per_step_1t", "mlp_ms_per_step_all", "mlp_gflops_all",
        "sgemm1024_gflops_1t", "sgemm1024_gflops_all", "peak_gflops_1t", "peak_gflops_all",
        "cnn_ms_per_step_1t", "cnn_ms_per_step_all", "cnn_gflops_all",
    ];

    private readonly Option<bool> quick = new("--quick") { Description = "Fewer repetitions: finishes within 30 seconds" };
    private readonly Option<bool> smoke = new("--smoke") { Description = "A few repetitions of each workload (seconds; for tests: checks the output, not the speed)" };
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object of medians and nothing else" };
    private readonly Option<bool> distributed = new("--distributed") { Description = "Under mpirun: the MLP step on the N processes against 1 process with every thread, and the allreduce's time and bytes per step" };

    public Command Create()
    {
        var command = new Command("bench", "Measure training and kernel speed on the standard workloads (lesson network, MLPs, CNN, 1024³ GEMM, FMA peak).")
        {
            quick, smoke, json, distributed,
        };
        command.SetAction(Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        if (parsed.GetValue(smoke) && parsed.GetValue(quick))
        {
            throw new BackpropException("--quick and --smoke both set how long bench runs; give one of them.");
        }
        var plan = parsed.GetValue(smoke) ? BenchPlan.Smoke : parsed.GetValue(quick) ? BenchPlan.Quick : BenchPlan.Full;
        var asJson = parsed.GetValue(json);
        if (parsed.GetValue(distributed))
        {
            return DistributedBench.Run(plan, asJson, stdout);
        }
        var all = Environment.ProcessorCount;
        var rows = new List<Row>();
        void Measure(string key, string workload, string unit, Func<List<double>> run)
        {
            var row = new Row(key, workload, unit, run());
            rows.Add(row);
            if (!asJson)
            {
                stdout.WriteLine(row.Format());
            }
        }

        if (!asJson)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{all} logical CPUs; Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}, Vector256 {(Vector256.IsHardwareAccelerated ? "on" : "off")}; load average {LoadAverage()}; {(plan == BenchPlan.Full ? "full run" : plan == BenchPlan.Quick ? "quick run" : "smoke run (timings not meaningful)")}"));
            stdout.WriteLine($"{"workload",-44} {"median",10} {"min",10} {"max",10}  unit       runs");
        }
        Measure("peak_gflops_1t", "FMA loop peak, 1 thread", "GFLOP/s", () => BenchWorkloads.Peak(plan, 1));
        Measure("peak_gflops_all", $"FMA loop peak, {all} threads", "GFLOP/s", () => BenchWorkloads.Peak(plan, all));
        Measure("statquest_us_per_step", "lesson network step (float64, 3 rows)", "µs/step", () => BenchWorkloads.Lesson(plan));
        Measure("mlp_small_us_per_step", "MLP 2-16-16-1 tanh step (batch 32)", "µs/step", () => BenchWorkloads.SmallMlp(plan));
        var threads = Parallelism.MaxDegreeOfParallelism;
        Parallelism.MaxDegreeOfParallelism = 1;
        Measure("sgemm1024_gflops_1t", "sgemm 1024³, 1 thread", "GFLOP/s", () => BenchWorkloads.Sgemm(plan));
        Measure("mlp_ms_per_step_1t", "MLP 784-1024-1024-10 step, 1 thread", "ms/step", () => BenchWorkloads.Mlp(plan));
        Measure("cnn_ms_per_step_1t", "reference CNN step, 1 thread", "ms/step", () => BenchWorkloads.Cnn(plan));
        Parallelism.MaxDegreeOfParallelism = all;
        Measure("sgemm1024_gflops_all", $"sgemm 1024³, {all} threads", "GFLOP/s", () => BenchWorkloads.Sgemm(plan));
        Measure("mlp_ms_per_step_all", $"MLP 784-1024-1024-10 step, {all} threads", "ms/step", () => BenchWorkloads.Mlp(plan));
        Measure("cnn_ms_per_step_all", $"reference CNN step, {all} threads", "ms/step", () => BenchWorkloads.Cnn(plan));
        Parallelism.MaxDegreeOfParallelism = threads;

        var mlpAll = rows.Single(r => r.Key == "mlp_ms_per_step_all").Median;
        var gflops = 6.0 * BenchWorkloads.MlpParameters * 128 / (mlpAll * 1e-3) / 1e9;
        var cnnGflops = BenchWorkloads.CnnFlopsPerStep / (rows.Single(r => r.Key == "cnn_ms_per_step_all").Median * 1e-3) / 1e9;
        if (asJson)
        {
            var medians = rows.ToDictionary(r => r.Key, r => r.Median);
            medians["mlp_gflops_all"] = gflops;
            medians["cnn_gflops_all"] = cnnGflops;
            JsonOutput.Write(stdout, w =>
            {
                foreach (var key in JsonKeys)
                {
                    JsonOutput.Number(w, key, Math.Round(medians[key], 4));
                }
            });
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MLP {all} threads: {gflops:F1} GFLOP/s (6 × {BenchWorkloads.MlpParameters} parameters × 128 rows per step at the median time)"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CNN {all} threads: {cnnGflops:F1} GFLOP/s ({BenchWorkloads.CnnFlopsPerStep / 1e9:F2} GFLOP per step: the products of forward and backward, at the median time)"));
        }
        return BackpropCli.Success;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private sealed record Row(string Key, string Workload, string Unit, List<double> Samples)
    {
        public double Median => BenchWorkloads.Median(Samples);

        public string Format() => BenchWorkloads.Row(Workload, Samples, Unit);
    }
}
