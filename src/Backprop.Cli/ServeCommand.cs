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

    /// <summary>Cancels the server (tests; Ctrl-C otherwise).</summary>
    internal CancellationToken Stop { get; init; }

    public Command Create()
    {
        var command = new Command("serve", "Start the playground: a local web page to move the lesson's weights, step through backpropagation and train networks on 2-D data, with numbers from the engine.")
        {
            port, host, open,
        };
        command.SetAction(Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
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
