using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Backprop.Playground;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop serve</c>: the learner's playground, a local web page whose every number comes from the
/// engine. Runs until Ctrl-C (or SIGTERM).
/// </summary>
internal sealed class ServeCommand(TextWriter stdout, TextWriter stderr)
{
    /// <summary>The port when none is given.</summary>
    public const int DefaultPort = 5055;

    private readonly Option<int> port = new("--port") { Description = $"The port to listen on; 0 for any free port (default {DefaultPort})", DefaultValueFactory = _ => DefaultPort, HelpName = "N", CustomParser = ParsePort };
    private readonly Option<string> host = new("--host") { Description = "The address to listen on (default 127.0.0.1, this machine only); another address lets other machines in", DefaultValueFactory = _ => "127.0.0.1", HelpName = "ADDRESS" };
    private readonly Option<bool> open = new("--open") { Description = "Open the page in the default browser (xdg-open, open or start)" };
    private readonly Option<bool> loadTest = new("--load-test") { Description = "Measure instead of serving: simulated tabs on 127.0.0.1 train their own networks; prints latency, errors and memory" };
    private readonly Option<int> sessions = new("--sessions") { Description = $"With --load-test: how many tabs (1 to {LoadTest.MaxSessions}, default 50)", DefaultValueFactory = _ => 50, HelpName = "N" };
    private readonly Option<int> seconds = new("--seconds") { Description = "With --load-test: for how long (default 30)", DefaultValueFactory = _ => 30, HelpName = "N" };

    /// <summary>Cancels the server (tests; Ctrl-C otherwise).</summary>
    internal CancellationToken Stop { get; init; }

    public Command Create()
    {
        var command = new Command("serve", "Start the playground: a local web page to move the lesson's weights, step through backpropagation and train networks on 2-D data, with numbers from the engine.")
        {
            port, host, open, loadTest, sessions, seconds,
        };
        command.SetAction(Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        if (parsed.GetValue(loadTest))
        {
            var r = LoadTest.RunAsync(parsed.GetValue(sessions), TimeSpan.FromSeconds(parsed.GetValue(seconds)), Stop).GetAwaiter().GetResult();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Sessions} sessions stepping for {r.Seconds:F1} s on 127.0.0.1: {r.Messages} step messages ({r.Steps} training steps), {r.Errors} errors"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step message latency: median {r.MedianMilliseconds:F2} ms, 95th percentile {r.P95Milliseconds:F2} ms"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"working set: {r.StartMiB:F0} MiB before, {r.PeakMiB:F0} MiB at most, {r.EndMiB:F0} MiB after"));
            return r.Errors == 0 ? BackpropCli.Success : BackpropCli.InternalError;
        }
        if (parsed.GetValue(seconds) != 30 || parsed.GetValue(sessions) != 50)
        {
            throw new BackpropException("--sessions and --seconds go with --load-test.");
        }
        var text = parsed.GetValue(host)!;
        if (!IPAddress.TryParse(text, out var address))
        {
            throw new BackpropException($"--host must be an IP address such as 127.0.0.1; '{text}' is not one.");
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Stop);
        var signals = new List<PosixSignalRegistration>();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                signals.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    stop.Cancel();
                }));
            }
            catch (PlatformNotSupportedException)
            {
            }
        }
        try
        {
            var server = PlaygroundServer.StartAsync(new PlaygroundOptions { Address = address, Port = parsed.GetValue(port) }, stop.Token).GetAwaiter().GetResult();
            try
            {
                stdout.WriteLine($"Backprop playground: {server.Address}");
                if (!IPAddress.IsLoopback(address))
                {
                    stderr.WriteLine($"backprop: listening on {address}: other machines can reach this page (use --host 127.0.0.1 to keep it to this machine)");
                }
                stdout.WriteLine("Press Ctrl-C to stop.");
                stdout.Flush();
                if (parsed.GetValue(open))
                {
                    OpenBrowser(server.Address);
                }
                PlaygroundServer.WaitAsync(stop.Token).GetAwaiter().GetResult();
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            signals.ForEach(s => s.Dispose());
        }
        return BackpropCli.Success;
    }

    private void OpenBrowser(Uri address)
    {
        var (program, args) = OperatingSystem.IsWindows() ? ("cmd", new[] { "/c", "start", "", address.ToString() })
            : OperatingSystem.IsMacOS() ? ("open", new[] { address.ToString() })
            : ("xdg-open", new[] { address.ToString() });
        try
        {
            var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            args.ToList().ForEach(start.ArgumentList.Add);
            using var process = Process.Start(start);
            process?.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            process?.StandardError.BaseStream.CopyToAsync(Stream.Null);
        }
        catch (Win32Exception)
        {
            stderr.WriteLine($"backprop: cannot open a browser ({program} is not installed); open {address} yourself");
        }
    }

    private static int ParsePort(System.CommandLine.Parsing.ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= 65535)
        {
            return value;
        }
        result.AddError($"--port must be a whole number from 0 to 65535; '{token}' is not one.");
        return 0;
    }
}
