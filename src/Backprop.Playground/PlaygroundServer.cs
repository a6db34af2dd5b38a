using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Backprop.Playground;

/// <summary>
/// The playground's web server (ASP.NET Core on Kestrel): the page and its script from the assembly's
/// resources, one WebSocket per tab carrying the engine's numbers, and downloads of the tab's model and report.
/// </summary>
public sealed class PlaygroundServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly PlaygroundOptions options;
    private readonly ConcurrentDictionary<string, (PlaygroundSession Session, WebSocket Socket)> sessions = new();
    private readonly long started;
    private readonly CancellationTokenSource stopping = new();
    private RequestGuard guard = null!;
    private Task? sweeper;

    private PlaygroundServer(WebApplication app, PlaygroundOptions options)
    {
        this.app = app;
        this.options = options;
        started = options.Clock.GetTimestamp();
    }

    private TimeSpan Now() => options.Clock.GetElapsedTime(started);

    /// <summary>The address to open in a browser, e.g. <c>http://127.0.0.1:5005/</c>.</summary>
    public Uri Address => guard.Address;

    /// <summary>How many tabs are connected.</summary>
    public int SessionCount => sessions.Count;

    /// <summary>Starts listening; returns once the port is bound.</summary>
    /// <exception cref="BackpropException">The port is taken or cannot be bound.</exception>
    public static async Task<PlaygroundServer> StartAsync(PlaygroundOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Address, options.Port);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxMessageBytes;
        });
        var app = builder.Build();
        var server = new PlaygroundServer(app, options);
        server.Map();
        try
        {
            await app.StartAsync(cancel);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new BackpropException($"cannot listen on {options.Address}:{options.Port}: {e.Message}");
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.guard = new RequestGuard(options.Address, new Uri(bound).Port);
        server.sweeper = server.SweepIdleSessionsAsync();
        return server;
    }

    private void Map()
    {
        app.Use(async (context, next) =>
        {
            if (guard?.Refusal(context.Request) is { } refusal)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync($"backprop serve: {refusal}\n");
                return;
            }
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; form-action 'none'";
            headers.CacheControl = "no-store";
            await next(context);
        });
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.MapGet("/", () => Resource("index.html", "text/html; charset=utf-8"));
        app.MapGet("/playground.js", () => Resource("playground.js", "text/javascript; charset=utf-8"));
        app.MapGet("/playground.css", () => Resource("playground.css", "text/css; charset=utf-8"));
        app.MapGet("/download/model", (string session) => Download(session, lab => lab.ModelFile(), "playground.bpm", "application/octet-stream"));
        app.MapGet("/download/report", (string session) => Download(session, lab => Encoding.UTF8.GetBytes(lab.Report()), "playground-report.html", "text/html; charset=utf-8"));
        app.Map("/ws", ConnectAsync);
    }

    private static IResult Resource(string name, string contentType)
    {
        using var stream = typeof(PlaygroundServer).Assembly.GetManifestResourceStream("wwwroot/" + name)
            ?? throw new InvalidOperationException($"The resource {name} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Results.Bytes(copy.ToArray(), contentType);
    }

    private IResult Download(string session, Func<TrainingLab, byte[]> make, string fileName, string contentType)
    {
        if (!sessions.TryGetValue(session, out var s))
        {
            return Results.NotFound("backprop serve: no such session (it was closed or left idle)\n");
        }
        s.Session.Gate.Wait();
        try
        {
            return s.Session.Lab is { } lab
                ? Results.File(make(lab), contentType, fileName)
                : Results.BadRequest("backprop serve: set up a network first\n");
        }
        catch (BackpropException e)
        {
            return Results.BadRequest($"backprop: {e.Message}\n");
        }
        finally
        {
            s.Session.Gate.Release();
        }
    }

    private async Task ConnectAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (sessions.Count >= options.MaxSessions)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"backprop serve: {options.MaxSessions} tabs are open already; close one.\n");
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new PlaygroundSession(options, Now);
        using var close = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, context.RequestAborted);
        sessions[session.Id] = (session, socket);
        try
        {
            await ServeAsync(socket, session, close.Token);
        }
        finally
        {
            sessions.TryRemove(session.Id, out _);
        }
    }

    // NOTE: a receive is never cancelled (cancelling one aborts an ASP.NET Core WebSocket without a close
    // frame); an idle tab is closed by sending it a close frame, which the tab answers.
    private async Task ServeAsync(WebSocket socket, PlaygroundSession session, CancellationToken cancel)
    {
        var buffer = new byte[64 << 10];
        using var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                message.SetLength(0);
                var tooLarge = false;
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (message.Length + received.Count > options.MaxMessageBytes)
                    {
                        tooLarge = true; // read the rest and drop it
                    }
                    else
                    {
                        message.Write(buffer, 0, received.Count);
                    }
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    }
                    return;
                }
                await session.Gate.WaitAsync(cancel);
                try
                {
                    var reply = tooLarge
                        ? Error(null, $"the message is larger than the {options.MaxMessageBytes / 1024} KiB a tab may send (uploads: {options.MaxUploadBytes / 1024} KiB)")
                        : await HandleAsync(session, message.ToArray(), cancel);
                    if (socket.State == WebSocketState.Open)
                    {
                        await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(reply, Messages.Json), WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
                finally
                {
                    session.Gate.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
        catch (WebSocketException)
        {
            // The tab went away.
        }
    }

    private static async Task<JsonObject> HandleAsync(PlaygroundSession session, byte[] bytes, CancellationToken cancel)
    {
        JsonNode? id = null;
        try
        {
            if (JsonNode.Parse(bytes) is not JsonObject message)
            {
                throw new BackpropException("A message must be a JSON object.");
            }
            id = message["id"]?.DeepClone();
            var reply = await session.HandleAsync(message, cancel);
            reply["id"] = id;
            return reply;
        }
        catch (JsonException)
        {
            return Error(id, "the message is not JSON");
        }
        catch (BackpropException e)
        {
            return Error(id, e.Message.ReplaceLineEndings(" "));
        }
        catch (OperationCanceledException)
        {
            throw;
        }
#pragma warning disable CA1031 // One tab's bad input must never take down the server or another tab.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new JsonObject { ["id"] = id, ["error"] = $"backprop: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (please report this)" };
        }
    }

    private static JsonObject Error(JsonNode? id, string message) => new() { ["id"] = id, ["error"] = $"backprop: {message}" };

    private async Task SweepIdleSessionsAsync()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(options.IdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token))
            {
                foreach (var (id, (session, socket)) in sessions)
                {
                    if (Now() - session.LastActivity > options.IdleTimeout && socket.State == WebSocketState.Open && session.Gate.Wait(0))
                    {
                        // Forgotten before the tab hears of it: once it sees the close, its downloads are gone too.
                        sessions.TryRemove(id, out _);
                        try
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "the session was idle too long", CancellationToken.None);
                        }
                        catch (WebSocketException)
                        {
                        }
                        finally
                        {
                            session.Gate.Release();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Runs until <paramref name="cancel"/> fires (Ctrl-C in the command).</summary>
    public static async Task WaitAsync(CancellationToken cancel)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancel);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Closes every tab and stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (sweeper is not null)
        {
            await sweeper;
        }
        await app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        await app.DisposeAsync();
        stopping.Dispose();
    }
}
