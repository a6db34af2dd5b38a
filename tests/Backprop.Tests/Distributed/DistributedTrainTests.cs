using System.Globalization;
using System.Text.Json;
using Backprop.Serialization;
using Backprop.Tests.Cli;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Distributed;

/// <summary>
/// <c>mpirun -np N backprop …</c>: the real command on several processes — one voice, one set of files,
/// the single-process model within the bound, interrupts and resumes, a process that dies.
/// </summary>
public sealed class DistributedTrainTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private static string Data(TempFolder folder)
    {
        var csv = folder.File("data.csv");
        var rng = new Rng(7);
        File.WriteAllLines(csv, ["a,b,c,y", .. Enumerable.Range(0, 64).Select(_ =>
        {
            var (a, b, c) = (rng.NextUniform(-1, 1), rng.NextUniform(-1, 1), rng.NextUniform(-1, 1));
            return FormattableString.Invariant($"{a:R},{b:R},{c:R},{Math.Sin(2 * a) + (b * c):R}");
        })]);
        return csv;
    }

    // 64 rows in batches of 8 (4 per process), Adam (or momentum), in double.
    private static string[] Training(string csv, int steps, string optimizer = "adam") =>
        ["train", "--data", csv, "--layers", "3,16,8,1", "--activation", "tanh", "--init", "xavier", "--loss", "mse", "--batch", "8",
         "--optimizer", optimizer, "--lr", "0.01", "--max-steps", steps.ToString(CultureInfo.InvariantCulture), "--min-step", "0", "--seed", "3"];

    private static double[] Values(string model) => [.. Model<double>.Load(model).Network.Parameters().SelectMany(p => p.Data.ToArray())];

    private static void AssertWithin(double[] expected, double[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= relative * expected.Max(Math.Abs), string.Create(CultureInfo.InvariantCulture, $"largest difference {worst:R}"));
    }

    [Fact]
    public void Distributed_on_one_process_alone_is_refused_with_one_line()
    {
        var message = AssertBadInput(Run("train", "--distributed"));

        Assert.Equal("backprop: --distributed trains on several processes started by mpirun: mpirun -np 2 backprop train … --distributed", message);
    }

    [MpiFact]
    public async Task Two_processes_train_the_single_process_model_within_the_bound_and_only_rank_0_prints_and_writes()
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var single = Run([.. Training(csv, 200), "--out", folder.File("single.bpm"), "--quiet"]);
        Assert.True(single.ExitCode == 0, single.Stderr);

        using var child = CliProcess.StartUnderMpirun(folder.Path, 2, [.. Training(csv, 200), "--distributed", "--out", folder.File("two.bpm"), "--json"]);
        var run = await child.WaitAsync(Timeout);

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}: {run.Stderr}");
        // Nothing on stderr but progress lines (a loaded machine may reach the display's 5 seconds).
        Assert.Empty(ProgressLines.Without(run.Stderr));
        // JsonDocument refuses anything after the first value: stdout is rank 0's one object.
        using (var report = JsonDocument.Parse(run.Stdout))
        {
            Assert.Equal(200, report.RootElement.GetProperty("steps").GetInt32());
        }
        Assert.Equal(["data.csv", "single.bpm", "two.bpm"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
        // 200 steps of the per-step bound (docs/distributed.md), in double.
        AssertWithin(Values(folder.File("single.bpm")), Values(folder.File("two.bpm")), 1e-10);
    }

    [MpiFact]
    public async Task An_output_rank_0_cannot_write_stops_every_process_with_rank_0s_one_line()
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var missing = Path.Combine(folder.Path, "no-such-folder", "m.bpm");

        using var child = CliProcess.StartUnderMpirun(folder.Path, 2, [.. Training(csv, 50), "--out", missing]);
        var run = await child.WaitAsync(Timeout);

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("backprop:", StringComparison.Ordinal));
        Assert.Equal($"backprop: {missing}.ckpt: cannot write the checkpoint: the folder {Path.GetDirectoryName(missing)} does not exist.", line);
        Assert.Equal(["data.csv"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [MpiFact]
    public async Task Bench_distributed_reports_the_allreduce_bytes_of_the_mlp_gradients()
    {
        var (code, stdout, stderr) = await Mpirun.RunAsync(2, Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll"), ["bench", "--distributed", "--smoke", "--json"], Timeout);

        Assert.True(code == 0, $"exit code {code}: {stderr}");
        using var report = JsonDocument.Parse(stdout);
        var root = report.RootElement;
        Assert.Equal(Backprop.Cli.DistributedBench.JsonKeys, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, root.GetProperty("processes").GetInt32());
        // 784·1024 + 1024 + 1024·1024 + 1024 + 1024·10 + 10 float gradients, once per step; a ring sends 2(N−1)/N of them.
        Assert.Equal(4 * 1_863_690, root.GetProperty("allreduce_bytes_per_step").GetDouble());
        Assert.Equal(4 * 1_863_690, root.GetProperty("ring_bytes_sent_per_step").GetDouble());
        Assert.True(root.GetProperty("mlp_ms_per_step_np").GetDouble() > 0);
    }

    [MpiFact]
    public async Task SIGTERM_to_mpirun_saves_one_checkpoint_every_rank_exits_130_and_resume_continues_bit_for_bit()
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var (first, second) = (folder.File("run.ckpt"), folder.File("resumed.ckpt"));
        // --quiet: once mpirun has the signal it stops reading the processes' output, and a process that
        // fills its pseudo-terminal (an epoch line every millisecond here) blocks before it can stop (docs/distributed.md).
        var interrupted = await InterruptAsync(folder, first, toRanks: false, [.. Training(csv, 1_000_000), "--checkpoint", first, "--checkpoint-every", "200", "--out", folder.File("m.bpm"), "--quiet"]);
        Assert.False(File.Exists(folder.File("m.bpm")));

        // Resumed on the same number of processes (and interrupted again, at a later step).
        var resumedAt = await InterruptAsync(folder, second, toRanks: true, "train", "--resume", first, "--checkpoint", second, "--checkpoint-every", "200");
        Assert.True(resumedAt > interrupted);
        var state = ((Checkpoint<double>)Checkpoint.Load(second)).State;
        double[] resumed = [.. state.Parameters.SelectMany(p => p.Value)];

        // The same run straight through to that step on 2 processes: the same bits.
        using (var straight = CliProcess.StartUnderMpirun(folder.Path, 2, [.. Training(csv, resumedAt), "--out", folder.File("straight.bpm"), "--quiet"]))
        {
            var run = await straight.WaitAsync(Timeout);
            Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}: {run.Stderr}");
        }
        Assert.Equal(Values(folder.File("straight.bpm")).Select(BitConverter.DoubleToInt64Bits), resumed.Select(BitConverter.DoubleToInt64Bits));
    }

    // Momentum, whose run does not amplify rounding differences as Adam's division by √v can: the steps
    // taken depend on when the signals arrive, and the bound must hold whatever their number.
    [MpiFact]
    public async Task A_checkpoint_of_two_processes_resumes_on_one_within_the_bound()
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var (first, second) = (folder.File("run.ckpt"), folder.File("one.ckpt"));
        await InterruptAsync(folder, first, toRanks: true, [.. Training(csv, 1_000_000, "momentum"), "--checkpoint", first, "--checkpoint-every", "200", "--quiet"]);

        using (var one = CliProcess.Start(folder.Path, "train", "--resume", first, "--checkpoint", second, "--checkpoint-every", "200", "--quiet"))
        {
            await one.WaitUntilAsync(() => File.Exists(second), Timeout);
            one.Signal("TERM");
            var run = await one.WaitAsync(Timeout);
            Assert.True(run.ExitCode == 130, $"exit code {run.ExitCode}: {run.Stderr}");
        }
        var state = ((Checkpoint<double>)Checkpoint.Load(second)).State;

        Assert.Equal(0, Run([.. Training(csv, state.Steps, "momentum"), "--out", folder.File("single.bpm"), "--quiet"]).ExitCode);
        AssertWithin(Values(folder.File("single.bpm")), [.. state.Parameters.SelectMany(p => p.Value)], 1e-10);
    }

    // Starts the command on 2 processes, waits for its first checkpoint, sends SIGTERM to mpirun (which
    // passes it on to the processes after odls_base_sigkill_timeout, then exits with their 130 or its own 1),
    // or to every process (mpirun then exits with theirs: 130); rank 0 prints the one line. Returns the
    // step the checkpoint holds.
    private static async Task<int> InterruptAsync(TempFolder folder, string checkpoint, bool toRanks, params string[] args)
    {
        using var child = CliProcess.StartUnderMpirun(folder.Path, 2, args);
        await child.WaitUntilAsync(() => File.Exists(checkpoint), Timeout);
        var ranks = child.Children();
        Assert.Equal(2, ranks.Count);
        if (toRanks)
        {
            Assert.All(ranks, pid => Assert.Equal(0, NativeMethods.Kill(pid, 15)));
        }
        else
        {
            child.Signal("TERM");
        }
        var run = await child.WaitAsync(Timeout);

        // mpirun exits with the processes' 130, or (when the signal was its own) sometimes with its own 1.
        Assert.True(run.ExitCode == 130 || (!toRanks && run.ExitCode == 1), $"exit code {run.ExitCode}: {run.Stdout} {run.Stderr}");
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("backprop:", StringComparison.Ordinal));
        var match = System.Text.RegularExpressions.Regex.Match(line, @"^backprop: interrupted at step (\d+); checkpoint saved to (.+); resume with: backprop train --resume (.+)$");
        Assert.True(match.Success, line);
        Assert.Equal(checkpoint, match.Groups[2].Value);
        var step = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(step, Checkpoint.Load(checkpoint).Steps);
        return step;
    }

    // Rank 0 too: then rank 1 says it (its own standard error; the command's output of ranks other than 0 is dropped).
    [MpiTheory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_process_killed_stops_the_others_within_seconds_with_one_line_and_the_last_checkpoint_intact(int killed)
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var checkpoint = folder.File("run.ckpt");
        using var child = CliProcess.StartUnderMpirun(folder.Path, 2, [.. Training(csv, 1_000_000), "--checkpoint", checkpoint, "--checkpoint-every", "200", "--out", folder.File("m.bpm")]);
        await child.WaitUntilAsync(() => File.Exists(checkpoint), Timeout);
        var ranks = child.Children();
        Assert.Equal(2, ranks.Count);

        var victim = ranks.Single(pid => File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains($"OMPI_COMM_WORLD_RANK={killed}"));
        Assert.Equal(0, NativeMethods.Kill(victim, 9));
        var run = await child.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("backprop:", StringComparison.Ordinal));
        Assert.Matches($@"^backprop: process {killed} of the 2 training together \(pid \d+\) ended during training; the others stop too, without writing anything; the last checkpoint, .*run\.ckpt, is intact$", line);
        Assert.False(File.Exists(folder.File("m.bpm")));
        Assert.True(Checkpoint.Load(checkpoint).Steps >= 200);
        Assert.Equal(["data.csv", "run.ckpt"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
    }
}
