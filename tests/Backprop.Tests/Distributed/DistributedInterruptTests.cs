using System.Globalization;
using Backprop.Serialization;
using Backprop.Tests.Cli;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 backprop train</c> interrupted (SIGTERM to mpirun or to every process) and resumed, on
/// two processes and on one.
/// </summary>
public sealed class DistributedInterruptTests : DistributedCommandTests
{
    [MpiFact]
    public async Task SIGTERM_to_mpirun_saves_one_checkpoint_every_rank_exits_130_and_resume_continues_bit_for_bit()
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var (first, second) = (folder.File("run.ckpt"), folder.File("resumed.ckpt"));
        // --quiet: once mpirun has the signal it stops reading the processes' output, and a process that
        // fills its pseudo-terminal (an epoch line every millisecond here) blocks before it can stop (docs/distributed.md).
        var interrupted = await InterruptAsync(folder, first, toRanks: false, holdAt: 337, [.. Checkpointed(csv, first), "--out", folder.File("m.bpm"), "--quiet"]);
        Assert.False(File.Exists(folder.File("m.bpm")));

        // Resumed on the same number of processes (and interrupted again, at a later step).
        var resumedAt = await InterruptAsync(folder, second, toRanks: true, holdAt: FirstCheckpointAfter(interrupted) + 137, "train", "--resume", first, "--checkpoint", second, "--checkpoint-every", "200");
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
        var interrupted = await InterruptAsync(folder, first, toRanks: true, holdAt: 337, [.. Checkpointed(csv, first, "momentum"), "--quiet"]);

        using (var one = CliProcess.StartHeld(folder.Path, FirstCheckpointAfter(interrupted) + 137, "train", "--resume", first, "--checkpoint", second, "--checkpoint-every", "200", "--quiet"))
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
    // step the checkpoint holds. Every process is held after step holdAt (later than the first
    // checkpoint) until its signal, so that the signal lands before the run ends however fast it goes.
    private static async Task<int> InterruptAsync(TempFolder folder, string checkpoint, bool toRanks, int holdAt, params string[] args)
    {
        // Signalled by the test, the processes need no grace after mpirun's SIGTERM (a second signal ends them at once).
        using var child = CliProcess.StartUnderMpirunHeld(folder.Path, 2, holdAt, toRanks ? Mpirun.NoGrace : Mpirun.Grace, args);
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
        Assert.True(step <= holdAt, $"interrupted at step {step}, after the hold at {holdAt}");
        Assert.Equal(step, Checkpoint.Load(checkpoint).Steps);
        return step;
    }

    // The first periodic checkpoint (every 200 steps) of a run resumed at step `resumed`.
    private static int FirstCheckpointAfter(int resumed) => ((resumed / 200) + 1) * 200;
}
