using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

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
        var host = TestUtil.ChildProcess.Host;
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

    /// <summary>
    /// The command on <paramref name="processes"/> processes: <c>mpirun … -np N dotnet Backprop.Cli.dll args</c>
    /// (see <see cref="Distributed.Mpirun.Options"/>); signals and kills go to mpirun.
    /// </summary>
    public static CliProcess StartUnderMpirun(string folder, int processes, params string[] args)
    {
        var start = new ProcessStartInfo(Distributed.Mpirun.Executable ?? "mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (var arg in Distributed.Mpirun.Options(processes).Append(TestUtil.ChildProcess.Host).Append(Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll")).Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        return new CliProcess(Process.Start(start)!);
    }

    /// <summary>The processes this one started (under mpirun: the ranks), from /proc.</summary>
    public IReadOnlyList<int> Children()
        => [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture))
            .Where(pid => ParentOf(pid) == process.Id).Order()];

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 4)..].Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends a real signal (INT or TERM), as <c>kill -INT pid</c> does, through libc's kill(2): no
    /// dependence on a kill program being installed.
    /// </summary>
    public void Signal(string name)
    {
        var number = name switch
        {
            "INT" => 2,
            "TERM" => 15,
            _ => throw new ArgumentException($"Unknown signal {name}", nameof(name)),
        };
        Assert.True(NativeMethods.Kill(process.Id, number) == 0, $"kill({process.Id}, SIG{name}) failed: errno {Marshal.GetLastPInvokeError()}");
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

/// <summary>libc's kill(2).</summary>
internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
