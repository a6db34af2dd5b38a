using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Backprop.Playground;
using Backprop.Tests.Plotting;

namespace Backprop.Tests.Playground;

/// <summary>A playground server on a free loopback port and, when a test needs it, one headless Chromium.</summary>
public sealed class PlaygroundFixture : IAsyncLifetime
{
    private Chromium? browser;

    internal PlaygroundServer Server { get; private set; } = null!;

    internal Chromium Browser => browser ??= Chromium.Start();

    public async Task InitializeAsync() => Server = await PlaygroundServer.StartAsync(new PlaygroundOptions());

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }
        await Server.DisposeAsync();
    }
}

/// <summary>A tab's side of the WebSocket, for tests that talk to the server without a browser.</summary>
internal sealed class PlaygroundClient : IAsyncDisposable
{
    private readonly ClientWebSocket socket = new();
    private int nextId;

    public static async Task<PlaygroundClient> ConnectAsync(Uri address, string? origin = null)
    {
        var client = new PlaygroundClient();
        client.socket.Options.SetRequestHeader("Origin", origin ?? address.GetLeftPart(UriPartial.Authority));
        // Generous bounds: on a busy machine the server may wait long for a core; a hang still fails.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await client.socket.ConnectAsync(new Uri($"ws://{address.Authority}/ws"), timeout.Token);
        return client;
    }

    public WebSocketState State => socket.State;

    /// <summary>Sends a message and returns the reply: <c>result</c> or <c>error</c>.</summary>
    public async Task<JsonObject> AskAsync(string type, JsonObject? fields = null)
    {
        var message = fields ?? [];
        message["type"] = type;
        message["id"] = ++nextId;
        return await SendRawAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
    }

    public async Task<JsonObject> SendRawAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await socket.SendAsync(bytes, WebSocketMessageType.Text, true, timeout.Token);
        return (await ReceiveAsync(timeout.Token) ?? throw new InvalidOperationException("the server closed the connection")).AsObject();
    }

    /// <summary>The next message, or null when the server closes the connection.</summary>
    public async Task<JsonNode?> ReceiveAsync(CancellationToken cancel)
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancel);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonNode.Parse(message.ToArray());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
        socket.Dispose();
    }
}
