using System.Diagnostics;
using System.Globalization;

namespace Backprop.Cli;

/// <summary>
/// Runs another program (Graphviz's <c>dot</c>) with a time limit: one that never ends is stopped,
/// with its whole process tree, and reported in one line, rather than hanging the command.
/// </summary>
internal static class ChildProgram
{
    /// <summary>The environment variable that sets the time limit, in seconds.</summary>
    public const string TimeoutVariable = "BACKPROP_CHILD_TIMEOUT";

    /// <summary>The time limit when <see cref="TimeoutVariable"/> does not set one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The time limit for every program started.</summary>
    /// <exception cref="BackpropException">The environment variable is set but is not a positive number of seconds.</exception>
    public static TimeSpan Timeout
        => Environment.GetEnvironmentVariable(TimeoutVariable) is not { Length: > 0 } text ? DefaultTimeout
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && s <= int.MaxValue / 1000
                ? TimeSpan.FromSeconds(s)
                : throw new BackpropException($"{TimeoutVariable} must be a positive number of seconds; it is '{text}'.");

    /// <summary>Runs <paramref name="program"/>, writing <paramref name="input"/> to it; returns its exit code and its error output.</summary>
    /// <exception cref="BackpropException">It cannot be started, or did not finish within <see cref="Timeout"/> (it is then stopped).</exception>
    public static (int ExitCode, string Errors) Run(string program, IEnumerable<string> arguments, string input)
    {
        var limit = Timeout;
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BackpropException($"Could not start {program}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BackpropException($"Could not start {program}: {e.Message}", e);
        }
        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEndAsync();
            // NOTE: written on another thread: a program that never reads would otherwise block this one
            // once the pipe is full, before the time limit could apply.
            var writing = Task.Run(() =>
            {
                try
                {
                    process.StandardInput.Write(input);
                    process.StandardInput.Close();
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // It stopped reading (it exited, or was stopped): its exit code and error output say why.
                }
            });
            if (!process.WaitForExit(limit))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It ended just now.
                }
                process.WaitForExit(TimeSpan.FromSeconds(10));
                throw new BackpropException(string.Create(CultureInfo.InvariantCulture,
                    $"{program} did not finish within {limit.TotalSeconds:G} seconds and was stopped; nothing was written ({TimeoutVariable} sets the limit in seconds)."));
            }
            process.WaitForExit();
            writing.Wait(TimeSpan.FromSeconds(10));
            _ = output.Wait(TimeSpan.FromSeconds(10));
            return (process.ExitCode, errors.Wait(TimeSpan.FromSeconds(10)) ? errors.Result : "");
        }
    }
}
