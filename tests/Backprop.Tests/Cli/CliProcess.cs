using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Backprop.Tests.Cli;

/// <summary>The real <c>backprop</c> command as a child process, for signals and kills.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdoutSoFar = new();
    private readonly Task<string> stdout;
    private readonly Task<string> stderr;

    private CliProcess(Process process)
    {
        this.process = process;
        stdout = ReadAll(process.StandardOutput, stdoutSoFar);
        stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>What the command has written on stdout (a pipe) so far, while it runs.</summary>
    public string StdoutSoFar
    {
        get
        {
            lock (stdoutSoFar)
            {
                return stdoutSoFar.ToString();
            }
        }
    }

    // Reads as the text arrives, so that a test sees what a pipe holds before the command ends.
    private static async Task<string> ReadAll(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, read);
            }
        }
        lock (into)
        {
            return into.ToString();
        }
    }

    public int Id => process.Id;

    public static CliProcess Start(string folder, params string[] args) => StartHeld(folder, null, args);

    /// <summary>
    /// Starts the command with training held after step <paramref name="holdAt"/> until it is signalled
    /// (<see cref="Backprop.Cli.Interruption.HoldVariable"/>): a test that signals it once an earlier
    /// step's checkpoint exists interrupts a run that has not ended, however fast the machine.
    /// </summary>
    public static CliProcess StartHeld(string folder, int? holdAt, params string[] args)
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
        Hold(start, holdAt);
        return new CliProcess(Process.Start(start)!);
    }

    private static void Hold(ProcessStartInfo start, int? holdAt)
    {
        if (holdAt is { } step)
        {
            start.Environment[Backprop.Cli.Interruption.HoldVariable] = step.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// The command on <paramref name="processes"/> processes: <c>mpirun … -np N dotnet Backprop.Cli.dll args</c>
    /// (see <see cref="Distributed.Mpirun.Options"/>); signals and kills go to mpirun.
    /// </summary>
    public static CliProcess StartUnderMpirun(string folder, int processes, params string[] args) => StartUnderMpirunHeld(folder, processes, null, Distributed.Mpirun.Grace, args);

    /// <summary>
    /// The command on <paramref name="processes"/> processes, every one held after step <paramref name="holdAt"/>
    /// until signalled (see <see cref="StartHeld"/>), with <paramref name="graceSeconds"/> from mpirun's SIGTERM to its SIGKILL.
    /// </summary>
    public static CliProcess StartUnderMpirunHeld(string folder, int processes, int? holdAt, int graceSeconds, params string[] args)
    {
        var start = new ProcessStartInfo(Distributed.Mpirun.Executable ?? "mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (var arg in Distributed.Mpirun.Options(processes, graceSeconds).Append(TestUtil.ChildProcess.Host).Append(Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll")).Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        Hold(start, holdAt);
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
    /// Sends a real signal (INT or TERM; STOP freezes the process, CONT lets it go on), as <c>kill -INT pid</c> does, through libc's kill(2): no
    /// dependence on a kill program being installed.
    /// </summary>
    public void Signal(string name)
    {
        var number = name switch
        {
            "INT" => 2,
            "TERM" => 15,
            "STOP" => 19,
            "CONT" => 18,
            _ => throw new ArgumentException($"Unknown signal {name}", nameof(name)),
        };
        Assert.True(NativeMethods.Kill(process.Id, number) == 0, $"kill({process.Id}, SIG{name}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// SIGSTOP, and waits until every thread of the process is stopped (state T in /proc): from then on
    /// it does nothing until SIGCONT or SIGKILL.
    /// </summary>
    public void Freeze()
    {
        Signal("STOP");
        var clock = Stopwatch.StartNew();
        while (!Directory.EnumerateDirectories($"/proc/{process.Id}/task").All(task => State(Path.Combine(task, "stat")) is 'T' or null))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the command did not stop after SIGSTOP");
            Thread.Sleep(1);
        }

        static char? State(string file)
        {
            try
            {
                var stat = File.ReadAllText(file);
                return stat[stat.LastIndexOf(')') + 2];
            }
            catch (IOException)
            {
                return null; // the thread ended
            }
        }
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
