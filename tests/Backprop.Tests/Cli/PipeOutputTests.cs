using Backprop.Tests.Serialization;

namespace Backprop.Tests.Cli;

/// <summary>Epoch lines reach a pipe or a file as they happen (<c>nohup backprop train … &gt; log</c>), not when the run ends.</summary>
public sealed class PipeOutputTests
{
    [Fact]
    public async Task Epoch_lines_are_in_the_pipe_while_the_run_is_still_training()
    {
        using var folder = new TempFolder();
        var csv = folder.File("data.csv");
        File.WriteAllText(csv, TuningOptionsTests.CurveCsv());
        // Full batch: a step an epoch. Held after step 3 until a signal, so the run surely has not ended
        // when the test looks, however fast the machine.
        using var process = CliProcess.StartHeld(folder.Path, 3, "train", "--data", csv, "--layers", "1,4,1", "--loss", "mse", "--epochs", "50");

        await process.WaitUntilAsync(() => process.StdoutSoFar.Contains("Epoch 3/50: ", StringComparison.Ordinal), TimeSpan.FromMinutes(5));

        var soFar = process.StdoutSoFar;
        Assert.Contains("Epoch 1/50: train loss ", soFar, StringComparison.Ordinal);
        Assert.Contains("Epoch 2/50: train loss ", soFar, StringComparison.Ordinal);
        Assert.DoesNotContain("Stopped after", soFar, StringComparison.Ordinal);
        // SIGTERM, which train handles as it does Ctrl-C: a run started in the background by a shell
        // without job control (as CI may be) ignores SIGINT, and so would this child.
        process.Signal("TERM");
        var result = await process.WaitAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(130, result.ExitCode);
        Assert.DoesNotContain("Epoch 4/50", result.Stdout, StringComparison.Ordinal);
        Assert.StartsWith(soFar, result.Stdout, StringComparison.Ordinal);
    }
}
