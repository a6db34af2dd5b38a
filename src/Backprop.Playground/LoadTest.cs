using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Backprop.Playground;

/// <summary>What a load test measured.</summary>
/// <param name="Sessions">Simulated tabs.</param>
/// <param name="Seconds">How long they stepped.</param>
/// <param name="Messages">Step messages answered.</param>
/// <param name="Steps">Training steps run.</param>
/// <param name="Errors">Messages answered with an error, or connections lost.</param>
/// <param name="MedianMilliseconds">The median time from sending a step message to its answer.</param>
/// <param name="P95Milliseconds">The 95th percentile of it.</param>
/// <param name="StartMiB">The process's working set before the tabs connected.</param>
/// <param name="PeakMiB">Its largest working set while they stepped (sampled every 100 ms).</param>
/// <param name="EndMiB">Its working set after they closed and a full garbage collection.</param>
public sealed record LoadTestResult(int Sessions, double Seconds, long Messages, long Steps, long Errors,
    double MedianMilliseconds, double P95Milliseconds, double StartMiB, double PeakMiB, double EndMiB);

/// <summary>
/// A measurement, not a test: simulated tabs on 127.0.0.1, each training its own 2-D network (xor,
/// 2-8-8-2, Adam, batches of 10) ten steps per message for the given time.
/// </summary>
public static class LoadTest
{
    /// <summary>The most simulated tabs.</summary>
    public const int MaxSessions = 200;

    /// <summary>The longest run.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(2);

    /// <summary>Runs the load test against a server of its own on a free loopback port.</summary>
    /// <exception cref="BackpropException">Sessions or duration out of bounds.</exception>
    public static async Task<LoadTestResult> RunAsync(int sessions, TimeSpan duration, CancellationToken cancel = default)
    {
        if (sessions is < 1 or > MaxSessions)
        {
            throw new BackpropException($"A load test runs 1 to {MaxSessions} sessions.");
        }
        if (duration <= TimeSpan.Zero || duration > MaxDuration)
        {
            throw new BackpropException($"A load test runs for at most {MaxDuration.TotalSeconds} seconds.");
        }
        using var process = Process.GetCurrentProcess();
        double WorkingSet()
        {
            process.Refresh();
            return process.WorkingSet64 / (1024.0 * 1024.0);
        }
        await using var server = await PlaygroundServer.StartAsync(new PlaygroundOptions { MaxSessions = sessions }, cancel);
        var start = WorkingSet();
        var latencies = new List<double>[sessions];
        long errors = 0, steps = 0;
        var peak = start;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, WorkingSet());
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        var tabs = Enumerable.Range(0, sessions).Select(i => Task.Run(async () =>
        {
            latencies[i] = [];
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Origin", server.Address.GetLeftPart(UriPartial.Authority));
            try
            {
                await socket.ConnectAsync(new Uri($"ws://{server.Address.Authority}/ws"), cancel);
                var setup = new JsonObject
                {
                    ["type"] = "setup",
                    ["id"] = 0,
                    ["data"] = "xor",
                    ["samples"] = 200,
                    ["noise"] = 0,
                    ["layers"] = "8,8",
                    ["activation"] = "tanh",
                    ["optimizer"] = "adam",
                    ["lr"] = 0.03,
                    ["batch"] = 10,
                    ["seed"] = i + 1,
                };
                if ((await AskAsync(socket, setup, cancel))["error"] is not null)
                {
                    Interlocked.Increment(ref errors);
                    return;
                }
                var step = Encoding.UTF8.GetBytes("""{"type":"train","id":1,"steps":10}""");
                while (clock.Elapsed < duration && !cancel.IsCancellationRequested)
                {
                    var sent = Stopwatch.GetTimestamp();
                    var reply = await AskAsync(socket, step, cancel);
                    latencies[i].Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    if (reply["error"] is not null)
                    {
                        Interlocked.Increment(ref errors);
                    }
                    else
                    {
                        Interlocked.Add(ref steps, 10);
                    }
                }
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancel);
            }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException)
            {
                Interlocked.Increment(ref errors);
            }
        }, cancel)).ToArray();
        await Task.WhenAll(tabs);
        var seconds = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        var all = latencies.Where(l => l is not null).SelectMany(l => l).Order().ToArray();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return new LoadTestResult(sessions, seconds, all.Length, steps, errors,
            all.Length == 0 ? double.NaN : all[all.Length / 2], all.Length == 0 ? double.NaN : all[(int)(all.Length * 0.95)],
            start, peak, WorkingSet());
    }

    private static Task<JsonObject> AskAsync(ClientWebSocket socket, JsonObject message, CancellationToken cancel) =>
        AskAsync(socket, Encoding.UTF8.GetBytes(message.ToJsonString()), cancel);

    private static async Task<JsonObject> AskAsync(ClientWebSocket socket, byte[] message, CancellationToken cancel)
    {
        await socket.SendAsync(message, WebSocketMessageType.Text, true, cancel);
        var buffer = new byte[1 << 16];
        using var reply = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancel);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("the server closed the connection");
            }
            reply.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonNode.Parse(reply.ToArray())!.AsObject();
            }
        }
    }
}
