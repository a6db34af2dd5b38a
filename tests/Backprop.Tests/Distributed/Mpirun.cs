using System.Diagnostics;
using Backprop.Tests.Plotting;
using Backprop.Tests.TestUtil;

namespace Backprop.Tests.Distributed;

/// <summary>Starts programs on several processes with Open MPI's <c>mpirun</c>.</summary>
internal static class Mpirun
{
    /// <summary>The mpirun program on the PATH, or null.</summary>
    public static string? Executable { get; } = Environment.GetEnvironmentVariable("PATH")?.Split(':')
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    /// <summary>
    /// The arguments before the program: root allowed (CI runs as root), more ranks than cores, no
    /// terminal (.NET would write terminal escapes into the output), and <paramref name="graceSeconds"/>
    /// for a rank to finish (save a checkpoint, say why it stops) after mpirun's SIGTERM before mpirun
    /// kills it (1 s by default; the machine may be busy).
    /// </summary>
    /// <remarks>
    /// NOTE: when a job ends badly (a rank's non-zero exit code, a killed rank) mpirun waits about twice
    /// the grace before it exits, even when every rank has ended already: a minute at 30 s. Tests where
    /// no rank needs it (each has ended or been signalled by the test itself) pass <see cref="NoGrace"/>.
    /// </remarks>
    public static IEnumerable<string> Options(int processes, int graceSeconds = Grace) =>
        ["--allow-run-as-root", "--oversubscribe", "-x", "TERM=dumb", "--mca", "odls_base_sigkill_timeout", graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "-np", processes.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>Time enough for a rank to finish after SIGTERM on a busy machine.</summary>
    public const int Grace = 30;

    /// <summary>mpirun's own default: for jobs whose ranks end by themselves or were already signalled by the test.</summary>
    public const int NoGrace = 1;

    /// <summary>Runs <c>mpirun … -np <paramref name="processes"/> dotnet <paramref name="dll"/> <paramref name="args"/></c>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(int processes, string dll, IEnumerable<string> args, TimeSpan timeout, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo(Executable ?? "mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in Options(processes).Append(ChildProcess.Host).Append(dll).Concat(args))
        {
            start.ArgumentList.Add(a);
        }
        configure?.Invoke(start);
        using var process = Process.Start(start)!;
        using var cancel = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The test assembly, which runs <see cref="MpiWorker"/> as its program.</summary>
    public static string TestAssembly => typeof(Mpirun).Assembly.Location;

    public static bool UnderCi => Chromium.UnderCi;
}

/// <summary>
/// A test that starts processes with mpirun: skipped, with the reason, on a developer machine without
/// Open MPI; run (and failing clearly) under CI (CI=true), where .ci/run installs it.
/// </summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (Mpirun.Executable is null && !Mpirun.UnderCi)
        {
            Skip = "mpirun is not installed (Debian: apt-get install openmpi-bin libopenmpi-dev); under CI (CI=true) these tests run and fail without it";
        }
    }
}

/// <inheritdoc cref="MpiFactAttribute"/>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute()
    {
        if (Mpirun.Executable is null && !Mpirun.UnderCi)
        {
            Skip = "mpirun is not installed (Debian: apt-get install openmpi-bin libopenmpi-dev); under CI (CI=true) these tests run and fail without it";
        }
    }
}
