using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Backprop.Tests.Plotting;

/// <summary>
/// Debian's headless Chromium, driven over the DevTools protocol (a WebSocket; nothing downloaded).
/// One browser per instance; <see cref="OpenAsync"/> gives a fresh tab that records console errors,
/// uncaught exceptions and every network request.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    // Generous: on a busy machine (CI's, or load 30 here) chromium may take long to start or to answer;
    // a browser that hangs still fails the test, only later.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly Process process;
    private readonly string profile;
    private readonly ClientWebSocket socket = new();
    private readonly Dictionary<int, TaskCompletionSource<JsonObject>> pending = [];
    private readonly List<JsonObject> events = [];
    private readonly Task receiver;
    private int nextId;

    private Chromium(Process process, string profile, Uri endpoint)
    {
        this.process = process;
        this.profile = profile;
        if (!socket.ConnectAsync(endpoint, CancellationToken.None).Wait(Timeout))
        {
            throw new TimeoutException($"could not connect to chromium's DevTools endpoint {endpoint} within {Timeout.TotalSeconds} s");
        }
        receiver = Task.Run(ReceiveAsync);
    }

    /// <summary>The browser's path, or null when it is not installed.</summary>
    public static string? Executable { get; } = new[] { "chromium", "chromium-browser" }
        .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(dir => Path.Combine(dir, name)))
        .FirstOrDefault(File.Exists);

    /// <summary>True under CI (CI=true), where a missing browser fails the tests instead of skipping them.</summary>
    public static bool UnderCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static Chromium Start()
    {
        var executable = Executable ?? throw new InvalidOperationException("chromium is not installed (Debian: apt-get install chromium); .ci/run installs it.");
        var profile = Path.Combine(Path.GetTempPath(), "backprop-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--hide-scrollbars", "--mute-audio", $"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        // Chromium announces its endpoint on stderr: "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID".
        var clock = Stopwatch.StartNew();
        var seen = new StringBuilder();
        while (clock.Elapsed < Timeout)
        {
            var line = process.StandardError.ReadLineAsync();
            if (!line.Wait(Timeout - clock.Elapsed) || line.Result is null)
            {
                break;
            }
            seen.AppendLine(line.Result);
            const string marker = "DevTools listening on ";
            var at = line.Result.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                process.StandardError.BaseStream.CopyToAsync(Stream.Null);
                return new Chromium(process, profile, new Uri(line.Result[(at + marker.Length)..].Trim()));
            }
        }
        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException($"chromium did not start its DevTools endpoint: {seen}");
    }

    /// <summary>
    /// Opens <paramref name="url"/> in a new tab and waits for it to load: offline (for files), or with
    /// the network on for a page served from this machine (the caller then checks where it went).
    /// </summary>
    public async Task<Tab> OpenAsync(string url, bool offline = true)
    {
        var target = await SendAsync(null, "Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        var attached = await SendAsync(null, "Target.attachToTarget", new JsonObject { ["targetId"] = (string)target["targetId"]!, ["flatten"] = true });
        var tab = new Tab(this, (string)attached["sessionId"]!);
        foreach (var domain in (string[])["Page", "Runtime", "Log", "Network"])
        {
            await tab.SendAsync($"{domain}.enable");
        }
        await tab.SendAsync("Network.emulateNetworkConditions", new JsonObject { ["offline"] = offline, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = -1 });
        await tab.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = 1400, ["height"] = 1000, ["deviceScaleFactor"] = 1, ["mobile"] = false });
        var loaded = tab.WaitForEventAsync("Page.loadEventFired");
        await tab.SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await loaded;
        return tab;
    }

    private async Task<JsonObject> SendAsync(string? session, string method, JsonObject? parameters = null)
    {
        var completion = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        int id;
        lock (pending)
        {
            id = ++nextId;
            pending[id] = completion;
        }
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (session is not null)
        {
            message["sessionId"] = session;
        }
        await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var response = await completion.Task.WaitAsync(Timeout);
        if (response["error"] is { } error)
        {
            throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}");
        }
        return response["result"]?.AsObject() ?? [];
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult received;
            try
            {
                received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                return;
            }
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage)
            {
                continue;
            }
            var json = JsonNode.Parse(message.ToArray())!.AsObject();
            message.SetLength(0);
            if (json["id"] is { } id)
            {
                TaskCompletionSource<JsonObject>? completion;
                lock (pending)
                {
                    pending.Remove((int)id, out completion);
                }
                completion?.TrySetResult(json);
            }
            else
            {
                lock (events)
                {
                    events.Add(json);
                    Monitor.PulseAll(events);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SendAsync(null, "Browser.close").WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or WebSocketException)
        {
        }
        if (!process.WaitForExit(5000))
        {
            process.Kill(entireProcessTree: true);
        }
        socket.Dispose();
        process.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium's helpers may still hold a file for a moment; the folder is in /tmp.
        }
    }

    /// <summary>One tab: evaluate script, read what it logged, take a screenshot.</summary>
    internal sealed class Tab(Chromium browser, string session)
    {
        public Task<JsonObject> SendAsync(string method, JsonObject? parameters = null) => browser.SendAsync(session, method, parameters);

        /// <summary>Events of this tab so far.</summary>
        public IReadOnlyList<JsonObject> Events
        {
            get
            {
                lock (browser.events)
                {
                    return [.. browser.events.Where(e => (string?)e["sessionId"] == session)];
                }
            }
        }

        /// <summary>Console errors, uncaught exceptions and error log entries, as text.</summary>
        public IReadOnlyList<string> Errors => [.. Events.Select(e => (string)e["method"]! switch
        {
            "Runtime.exceptionThrown" => "exception: " + e["params"]!["exceptionDetails"]!.ToJsonString(),
            "Runtime.consoleAPICalled" when (string?)e["params"]!["type"] is "error" or "assert" => "console: " + e["params"]!["args"]!.ToJsonString(),
            "Log.entryAdded" when (string?)e["params"]!["entry"]!["level"] == "error" => "log: " + e["params"]!["entry"]!.ToJsonString(),
            _ => null,
        }).OfType<string>()];

        /// <summary>The URL of every request the page made, WebSockets included.</summary>
        public IReadOnlyList<string> Requests => [.. Events.Select(e => (string)e["method"]! switch
        {
            "Network.requestWillBeSent" => (string)e["params"]!["request"]!["url"]!,
            "Network.webSocketCreated" => (string)e["params"]!["url"]!,
            _ => null,
        }).OfType<string>()];

        /// <summary>Evaluates <paramref name="condition"/> until it is true (or the generous timeout passes).</summary>
        public async Task WaitUntilAsync(string condition, TimeSpan? timeout = null)
        {
            var limit = timeout ?? TimeSpan.FromMinutes(5);
            var clock = Stopwatch.StartNew();
            while (await EvaluateAsync($"!!({condition})") is not JsonValue v || !v.GetValue<bool>())
            {
                if (clock.Elapsed > limit)
                {
                    throw new TimeoutException($"'{condition}' did not become true within {limit.TotalSeconds} s; page errors: {string.Join(" | ", Errors)}");
                }
                await Task.Delay(50);
            }
        }

        public async Task WaitForEventAsync(string method)
        {
            var clock = Stopwatch.StartNew();
            await Task.Run(() =>
            {
                lock (browser.events)
                {
                    while (!browser.events.Any(e => (string?)e["method"] == method && (string?)e["sessionId"] == session))
                    {
                        if (clock.Elapsed > Timeout)
                        {
                            throw new TimeoutException($"no {method} within {Timeout.TotalSeconds} s");
                        }
                        Monitor.Wait(browser.events, TimeSpan.FromMilliseconds(100));
                    }
                }
            });
        }

        /// <summary>Evaluates <paramref name="expression"/> in the page; returns its value as JSON.</summary>
        public async Task<JsonNode?> EvaluateAsync(string expression)
        {
            var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
            if (result["exceptionDetails"] is { } details)
            {
                throw new InvalidOperationException($"script failed: {details.ToJsonString()}");
            }
            return result["result"]!["value"];
        }

        public async Task<byte[]> ScreenshotAsync()
        {
            var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
            return Convert.FromBase64String((string)shot["data"]!);
        }
    }
}

/// <summary>
/// A test that needs Chromium: skipped, with the reason, on a developer machine without it; run
/// (and failing clearly) under CI, where .ci/run installs it.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Executable is null && !Chromium.UnderCi)
        {
            Skip = "chromium is not installed (Debian: apt-get install chromium); under CI (CI=true) these tests run and fail without it";
        }
    }
}
