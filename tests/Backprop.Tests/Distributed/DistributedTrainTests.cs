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
public sealed class DistributedTrainTests : DistributedCommandTests
{
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

        // Both processes end by themselves: no grace for them after mpirun's SIGTERM.
        using var child = CliProcess.StartUnderMpirunHeld(folder.Path, 2, null, Mpirun.NoGrace, [.. Training(csv, 50), "--out", missing]);
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
}
