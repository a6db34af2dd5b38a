using System.Diagnostics;
using System.Net;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop serve</c> as a real child process: it prints its address, serves the page, and stops on Ctrl-C.</summary>
public sealed class ServeCommandTests
{
    // Skipped, as the other Ctrl-C tests are, when this process ignores SIGINT: its children would too.
    [SigintFact]
    public async Task Serve_prints_its_loopback_address_serves_the_page_and_stops_cleanly_on_SIGINT()
    {
        var start = new ProcessStartInfo(TestUtil.ChildProcess.Host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll"), "serve", "--port", "0"])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5));
            Assert.NotNull(first);
            Assert.Matches("^Backprop playground: http://127\\.0\\.0\\.1:[1-9][0-9]*/$", first);
            var address = new Uri(first["Backprop playground: ".Length..]);
            Assert.Equal("Press Ctrl-C to stop.", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5)));
            using var http = new HttpClient();
            using var page = await http.GetAsync(address);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);

            Assert.Equal(0, NativeMethods.Kill(process.Id, 2));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
            Assert.Equal(0, process.ExitCode);
            Assert.Equal("", await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Serve_open_runs_the_systems_opener_with_its_address()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // xdg-open is Linux's opener; macOS and Windows use open and start
        }
        // A stand-in xdg-open, first on PATH, that writes down what it was asked to open.
        using var folder = new Plotting.TempFolder();
        var opener = folder["xdg-open"];
        File.WriteAllText(opener, "#!/bin/sh\nprintf '%s\\n' \"$1\" > \"$(dirname \"$0\")/opened.tmp\" && mv \"$(dirname \"$0\")/opened.tmp\" \"$(dirname \"$0\")/opened\"\n");
        File.SetUnixFileMode(opener, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo(TestUtil.ChildProcess.Host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll"), "serve", "--port", "0", "--open"])
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["PATH"] = folder.Path + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.NotNull(first);
            var address = first["Backprop playground: ".Length..];
            var opened = folder["opened"];
            var clock = Stopwatch.StartNew();
            while (!File.Exists(opened) && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(50);
            }
            Assert.Equal(address + "\n", File.ReadAllText(opened));

            // SIGTERM, which serve handles as it does Ctrl-C: a run started in the background by a
            // shell without job control (as CI may be) ignores SIGINT, and so would this child.
            Assert.Equal(0, NativeMethods.Kill(process.Id, 15));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, process.ExitCode);
            Assert.Equal("", await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Theory]
    [InlineData(new[] { "serve", "--port", "70000" }, "backprop: --port must be a whole number from 0 to 65535; '70000' is not one. (see 'backprop serve --help')")]
    [InlineData(new[] { "serve", "--host", "example.com" }, "backprop: --host must be an IP address such as 127.0.0.1; 'example.com' is not one.")]
    public void Bad_options_get_one_line_and_exit_code_2(string[] args, string message)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        Assert.Equal(2, Backprop.Cli.BackpropCli.Run(args, stdout, stderr));
        Assert.Equal(message + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public async Task A_port_already_taken_gets_one_line_and_exit_code_2()
    {
        await using var taken = await Backprop.Playground.PlaygroundServer.StartAsync(new Backprop.Playground.PlaygroundOptions());
        var port = taken.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        Assert.Equal(2, Backprop.Cli.BackpropCli.Run(["serve", "--port", port], stdout, stderr));
        Assert.StartsWith($"backprop: cannot listen on 127.0.0.1:{port}: ", stderr.ToString(), StringComparison.Ordinal);
        Assert.Single(stderr.ToString().TrimEnd().Split('\n'));
    }
}
