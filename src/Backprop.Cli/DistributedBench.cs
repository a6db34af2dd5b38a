using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backprop.Distributed;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>mpirun -np N backprop bench --distributed</c>: the <c>mlp</c> workload (784-1024-1024-10 ReLU,
/// float32, batch 128, cross-entropy, gradient descent) on one process with every core's thread, then
/// data-parallel on the N processes (the cores shared out between them): step time, and the allreduce's
/// time and bytes per step. Only rank 0 prints.
/// </summary>
internal static class DistributedBench
{
    /// <summary>The keys of <c>--json</c>, in order.</summary>
    public static readonly string[] JsonKeys =
    [
        "processes", "threads_per_process", "mlp_ms_per_step_1p", "mlp_ms_per_step_np", "allreduce_ms_per_step",
        "allreduce_bytes_per_step", "ring_bytes_sent_per_step", "step_time_ratio_np_to_1p",
    ];

    public static int Run(BenchPlan plan, bool asJson, TextWriter stdout)
    {
        if (!MpiCommunicator.StartedByLauncher)
        {
            throw new BackpropException("--distributed needs several processes started by mpirun: mpirun -np 2 backprop bench --distributed");
        }
        using var communicator = MpiCommunicator.Start();
        var root = communicator.Rank == 0;
        var output = root ? stdout : TextWriter.Null;
        var cores = Environment.ProcessorCount;
        var localProcesses = int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), CultureInfo.InvariantCulture, out var local) ? local : communicator.Size;
        var threads = Math.Max(1, cores / Math.Max(1, localProcesses));
        var saved = Parallelism.MaxDegreeOfParallelism;
        try
        {
            // One process with every thread, while the others wait (asleep, not spinning) at the barrier.
            var single = new List<double>();
            if (root)
            {
                Parallelism.MaxDegreeOfParallelism = cores;
                single = Mlp(plan, null).Steps;
            }
            communicator.Barrier();
            Parallelism.MaxDegreeOfParallelism = threads;
            var ddp = new DistributedDataParallel<float>(communicator);
            var (steps, allreduce) = Mlp(plan, ddp);
            var bytesPerStep = (double)ddp.AllreduceBytes / (plan.MlpWarmup + plan.MlpSteps);
            communicator.Barrier();
            if (!root)
            {
                return BackpropCli.Success;
            }
            var n = communicator.Size;
            var ring = 2.0 * (n - 1) / n * bytesPerStep;
            var (medianSingle, medianMany, medianAllreduce) = (Median(single), Median(steps), Median(allreduce));
            if (asJson)
            {
                using var buffer = new MemoryStream();
                using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteNumber(JsonKeys[0], n);
                    w.WriteNumber(JsonKeys[1], threads);
                    w.WriteNumber(JsonKeys[2], Math.Round(medianSingle, 4));
                    w.WriteNumber(JsonKeys[3], Math.Round(medianMany, 4));
                    w.WriteNumber(JsonKeys[4], Math.Round(medianAllreduce, 4));
                    w.WriteNumber(JsonKeys[5], Math.Round(bytesPerStep));
                    w.WriteNumber(JsonKeys[6], Math.Round(ring));
                    w.WriteNumber(JsonKeys[7], Math.Round(medianMany / medianSingle, 4));
                    w.WriteEndObject();
                }
                output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
                return BackpropCli.Success;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"distributed: {n} processes × {threads} thread{(threads == 1 ? "" : "s")} ({communicator.LibraryName}); MLP 784-1024-1024-10 ReLU, float32, batch 128 ({128 / n}–{(128 + n - 1) / n} rows per process), cross-entropy, gradient descent"));
            output.WriteLine($"{"measure",-44} {"median",10} {"min",10} {"max",10}  unit       runs");
            Row(output, $"MLP step, 1 process × {cores} threads", single, "ms/step");
            Row(output, $"MLP step, {n} processes × {threads} thread{(threads == 1 ? "" : "s")}", steps, "ms/step");
            Row(output, "allreduce of the gradients per step", allreduce, "ms/step");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gradient bytes per step per process: {bytesPerStep:N0}; a ring allreduce sends 2(N−1)/N × that = {ring:N0} per process"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step time on {n} processes / on 1 process with {cores} threads: {medianMany / medianSingle:F2}"));
            return BackpropCli.Success;
        }
        finally
        {
            Parallelism.MaxDegreeOfParallelism = saved;
        }
    }

    // The bench's mlp workload (BenchWorkloads.Mlp), data-parallel when ddp is given: ms per step and ms
    // of allreduce per step, warm-up steps left out.
    private static (List<double> Steps, List<double> Allreduce) Mlp(BenchPlan plan, DistributedDataParallel<float>? ddp)
    {
        var (trainer, x, labels) = BenchWorkloads.MlpTrainer();
        ddp?.Attach(trainer);
        var total = plan.MlpWarmup + plan.MlpSteps;
        var clock = new Clock(total, ddp);
        trainer.Fit(x, labels, new TrainingOptions { MaxSteps = total, MinStepSize = null }, [clock]);
        var allreduce = new List<double>();
        for (var i = Math.Max(plan.MlpWarmup, 1); i < clock.Count; i++)
        {
            allreduce.Add((clock.Allreduce[i] - clock.Allreduce[i - 1]).TotalMilliseconds);
        }
        return (BenchWorkloads.StepMilliseconds(clock.Ticks, clock.Count, plan.MlpWarmup), allreduce);
    }

    private sealed class Clock(int steps, DistributedDataParallel<float>? ddp) : TrainingMonitor<float>
    {
        public long[] Ticks { get; } = new long[steps];

        public TimeSpan[] Allreduce { get; } = new TimeSpan[steps];

        public int Count { get; private set; }

        public override void OnStepEnd(Trainer<float> trainer, int step)
        {
            Ticks[Count] = Stopwatch.GetTimestamp();
            Allreduce[Count++] = ddp?.AllreduceTime ?? TimeSpan.Zero;
        }
    }

    private static double Median(List<double> samples) => BenchWorkloads.Median(samples);

    private static void Row(TextWriter output, string what, List<double> samples, string unit) => output.WriteLine(BenchWorkloads.Row(what, samples, unit));
}
