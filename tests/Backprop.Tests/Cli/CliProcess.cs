using System.Diagnostics;
using System.Globalization;

namespace Backprop.Tests.Cli;

/// <summary>The real <c>backprop</c> command as a child process, for signals and kills.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly Task<string> stdout;
    private readonly Task<string> stderr;

    private CliProcess(Process process)
    {
        this.process = process;
        stdout = process.StandardOutput.ReadToEndAsync();
        stderr = process.StandardError.ReadToEndAsync();
    }

    public int Id => process.Id;

    public static CliProcess Start(string folder, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return new CliProcess(Process.Start(start)!);
    }

    /// <summary>Sends a signal the way a shell user does: <c>kill -INT pid</c>.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGKILL: no handler runs, no file is finished.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit();
    }

    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, TimeSpan? poll = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited)
            {
                Assert.Fail($"the command ended (exit code {process.ExitCode}) before it was expected to: {await stderr}");
            }
            Assert.True(clock.Elapsed < timeout, "the command made no progress in time");
            if (poll is { } p && p < TimeSpan.FromMilliseconds(15))
            {
                Thread.Sleep(p); // Task.Delay cannot wait less than the timer's resolution
            }
            else
            {
                await Task.Delay(poll ?? TimeSpan.FromMilliseconds(20));
            }
        }
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
