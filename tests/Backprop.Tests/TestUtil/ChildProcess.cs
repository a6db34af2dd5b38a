using System.Diagnostics;

namespace Backprop.Tests.TestUtil;

/// <summary>Runs a .NET program (a dll) in a child process and collects what it printed.</summary>
internal static class ChildProcess
{
    /// <summary>The dotnet host that runs this test process (or <c>dotnet</c> from the PATH).</summary>
    public static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";

    /// <summary>
    /// Runs <c>dotnet <paramref name="dll"/> <paramref name="args"/></c>; kills it (and fails) after
    /// <paramref name="timeout"/>. <paramref name="configure"/> may set the folder or environment.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string dll, IEnumerable<string> args, TimeSpan timeout, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo(Host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
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
}
