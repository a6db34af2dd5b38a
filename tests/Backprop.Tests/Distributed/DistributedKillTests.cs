using System.Globalization;
using Backprop.Serialization;
using Backprop.Tests.Cli;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 backprop train</c> with one process killed (SIGKILL) mid-run.
/// </summary>
public sealed class DistributedKillTests : DistributedCommandTests
{
    // Rank 0 too: then rank 1 says it (its own standard error; the command's output of ranks other than 0 is dropped).
    [MpiTheory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_process_killed_stops_the_others_within_seconds_with_one_line_and_the_last_checkpoint_intact(int killed)
    {
        using var folder = new TempFolder();
        var csv = Data(folder);
        var checkpoint = folder.File("run.ckpt");
        using var child = CliProcess.StartUnderMpirun(folder.Path, 2, [.. Checkpointed(csv, checkpoint), "--out", folder.File("m.bpm")]);
        await child.WaitUntilAsync(() => File.Exists(checkpoint), Timeout);
        var ranks = child.Children();
        Assert.Equal(2, ranks.Count);

        var victim = ranks.Single(pid => File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains($"OMPI_COMM_WORLD_RANK={killed}"));
        Assert.Equal(0, NativeMethods.Kill(victim, 9));
        var run = await child.WaitAsync(Timeout);

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("backprop:", StringComparison.Ordinal));
        Assert.Matches($@"^backprop: process {killed} of the 2 training together \(pid \d+\) ended during training; the others stop too, without writing anything; the last checkpoint, .*run\.ckpt, is intact$", line);
        Assert.False(File.Exists(folder.File("m.bpm")));
        Assert.True(Checkpoint.Load(checkpoint).Steps >= 200);
        Assert.Equal(["data.csv", "run.ckpt"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
    }
}
