using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Backprop.Playground;
using Backprop.Serialization;

namespace Backprop.Tests.Playground;

/// <summary>The server without a browser: who it answers, its caps and limits, and that tabs cannot reach each other.</summary>
public sealed class PlaygroundServerTests
{
    private static async Task<PlaygroundServer> StartAsync(PlaygroundOptions? options = null) =>
        await PlaygroundServer.StartAsync(options ?? new PlaygroundOptions());

    private static JsonObject Xor(string layers = "4") => new()
    {
        ["data"] = "xor",
        ["samples"] = 60,
        ["noise"] = 0,
        ["layers"] = layers,
        ["activation"] = "tanh",
        ["optimizer"] = "adam",
        ["lr"] = 0.03,
        ["batch"] = 10,
        ["seed"] = 3,
    };

    [Fact]
    public async Task It_listens_on_loopback_only_by_default_on_the_port_it_was_given_or_a_free_one()
    {
        await using var server = await StartAsync();

        Assert.Equal("127.0.0.1", server.Address.Host);
        Assert.NotEqual(0, server.Address.Port);
        using var http = new HttpClient();
        var page = await http.GetStringAsync(server.Address);
        Assert.Contains("<script src=\"/playground.js\"></script>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        var script = await http.GetStringAsync(new Uri(server.Address, "/playground.js"));
        Assert.DoesNotContain("https://", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evil.example", null)]
    [InlineData("evil.example:{port}", null)]
    [InlineData("127.0.0.1:1", null)]
    [InlineData("127.0.0.1:{port}", "http://evil.example")]
    [InlineData("127.0.0.1:{port}", "https://127.0.0.1:{port}")]
    [InlineData("localhost:{port}", "http://localhost.evil.example:{port}")]
    public async Task Requests_for_another_host_or_from_another_origin_are_refused(string host, string? origin)
    {
        await using var server = await StartAsync();
        var port = server.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Address);
        request.Headers.Host = host.Replace("{port}", port, StringComparison.Ordinal);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin.Replace("{port}", port, StringComparison.Ordinal));
        }
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("backprop serve: this server answers only to", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:{port}", null)]
    [InlineData("localhost:{port}", "http://localhost:{port}")]
    [InlineData("127.0.0.1:{port}", "http://127.0.0.1:{port}")]
    public async Task Requests_to_its_own_address_are_answered(string host, string? origin)
    {
        await using var server = await StartAsync();
        var port = server.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Address);
        request.Headers.Host = host.Replace("{port}", port, StringComparison.Ordinal);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin.Replace("{port}", port, StringComparison.Ordinal));
        }
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_websocket_from_another_sites_page_is_refused()
    {
        await using var server = await StartAsync();

        await Assert.ThrowsAsync<WebSocketException>(() => PlaygroundClient.ConnectAsync(server.Address, origin: "http://evil.example"));
        Assert.Equal(0, server.SessionCount);
    }

    [Fact]
    public async Task An_upload_over_the_cap_is_refused_with_a_message_and_the_tab_goes_on()
    {
        await using var server = await StartAsync(new PlaygroundOptions { MaxUploadBytes = 2000 });
        await using var tab = await PlaygroundClient.ConnectAsync(server.Address);
        var csv = "x,y\n" + string.Concat(Enumerable.Repeat("1,2\n", 600));

        var reply = await tab.AskAsync("data", new JsonObject { ["name"] = "big.csv", ["csv"] = csv });
        Assert.Equal("backprop: big.csv is larger than the 1 KiB an upload may be.", (string?)reply["error"]);

        // A message beyond even the message cap is read to its end and answered, not let through.
        var huge = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "data", ["id"] = 9, ["csv"] = new string('1', 200_000) }.ToJsonString());
        var refused = await tab.SendRawAsync(huge);
        Assert.StartsWith("backprop: the message is larger than the", (string?)refused["error"], StringComparison.Ordinal);

        var fine = await tab.AskAsync("data", new JsonObject { ["name"] = "small.csv", ["csv"] = "x,y\n1,2\n2,3\n3,5\n" });
        Assert.Equal(3, (int)fine["result"]!["rows"]!);
    }

    [Fact]
    public async Task Networks_beyond_the_size_limits_are_refused_with_a_message()
    {
        await using var server = await StartAsync();
        await using var tab = await PlaygroundClient.ConnectAsync(server.Address);

        var wide = await tab.AskAsync("setup", Xor($"{TrainingLab.MaxUnits + 1}"));
        var deep = await tab.AskAsync("setup", Xor(string.Join(',', Enumerable.Repeat(2, TrainingLab.MaxLayers + 1))));
        var steps = await tab.AskAsync("setup", Xor());
        var tooMany = await tab.AskAsync("train", new JsonObject { ["steps"] = TrainingLab.MaxStepsPerMessage + 1 });

        Assert.Equal($"backprop: Each hidden layer needs 1 to {TrainingLab.MaxUnits} neurons; '{TrainingLab.MaxUnits + 1}' is not that.", (string?)wide["error"]);
        Assert.Equal($"backprop: At most {TrainingLab.MaxLayers} hidden layers.", (string?)deep["error"]);
        Assert.Null(steps["error"]);
        Assert.Equal($"backprop: 'steps' must be a whole number from 0 to {TrainingLab.MaxStepsPerMessage}.", (string?)tooMany["error"]);
    }

    [Fact]
    public async Task One_tabs_bad_input_never_reaches_another_tab()
    {
        await using var server = await StartAsync();
        await using var a = await PlaygroundClient.ConnectAsync(server.Address);
        await using var b = await PlaygroundClient.ConnectAsync(server.Address);
        Assert.Null((await a.AskAsync("setup", Xor()))["error"]);
        var before = await a.AskAsync("train", new JsonObject { ["steps"] = 20 });

        // Tab b sends rubbish of every kind; each gets its own one-line answer.
        Assert.Equal("backprop: the message is not JSON", (string?)(await b.SendRawAsync("{not json"u8.ToArray()))["error"]);
        Assert.Equal("backprop: Unknown message type 'explode'.", (string?)(await b.AskAsync("explode"))["error"]);
        Assert.Equal("backprop: Set up a network first.", (string?)(await b.AskAsync("train", new JsonObject { ["steps"] = 5 }))["error"]);
        Assert.StartsWith("backprop: w1 must be a finite number", (string?)(await b.AskAsync("lesson", new JsonObject { ["values"] = new JsonObject { ["w1"] = 1e300, ["b1"] = 0, ["w2"] = 0, ["b2"] = 0, ["w3"] = 0, ["w4"] = 0, ["b3"] = 0 } }))["error"], StringComparison.Ordinal);
        Assert.StartsWith("backprop: ", (string?)(await b.AskAsync("data", new JsonObject { ["name"] = "b.csv", ["csv"] = "x,y\n1,NaN\n" }))["error"], StringComparison.Ordinal);
        Assert.Null((await b.AskAsync("setup", Xor("16,16")))["error"]);

        // Tab a's run is where it was, and goes on exactly as a run that was never disturbed.
        var view = (await a.AskAsync("view"))["result"]!;
        Assert.Equal(20, (int)view["steps"]!);
        Assert.Equal((double)before["result"]!["loss"]!, (double)view["loss"]!);
        var after = await a.AskAsync("train", new JsonObject { ["steps"] = 20 });
        await using var c = await PlaygroundClient.ConnectAsync(server.Address);
        await c.AskAsync("setup", Xor());
        var straight = await c.AskAsync("train", new JsonObject { ["steps"] = 40 });
        Assert.Equal((double)straight["result"]!["loss"]!, (double)after["result"]!["loss"]!);
        Assert.Equal(WebSocketState.Open, b.State);
    }

    [Fact]
    public async Task Tabs_beyond_the_session_limit_are_refused()
    {
        await using var server = await StartAsync(new PlaygroundOptions { MaxSessions = 2 });
        await using var a = await PlaygroundClient.ConnectAsync(server.Address);
        await using var b = await PlaygroundClient.ConnectAsync(server.Address);
        await a.AskAsync("hello");
        await b.AskAsync("hello");

        await Assert.ThrowsAsync<WebSocketException>(() => PlaygroundClient.ConnectAsync(server.Address));
    }

    [Fact]
    public async Task An_idle_tab_is_closed_and_forgotten_and_a_busy_one_is_kept()
    {
        // The server's clock moves only when the test moves it, so how fast this machine is does not matter.
        var clock = new ManualClock();
        await using var server = await StartAsync(new PlaygroundOptions { IdleTimeout = TimeSpan.FromMilliseconds(200), Clock = clock });
        await using var idle = await PlaygroundClient.ConnectAsync(server.Address);
        await using var busy = await PlaygroundClient.ConnectAsync(server.Address);
        var session = (string)(await idle.AskAsync("hello"))["result"]!["session"]!;
        await busy.AskAsync("hello");

        clock.Advance(TimeSpan.FromMilliseconds(150));
        Assert.Null((await busy.AskAsync("hello"))["error"]);
        clock.Advance(TimeSpan.FromMilliseconds(100)); // idle for 250 ms, busy for 100 ms

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Null(await idle.ReceiveAsync(wait.Token)); // the server closes the idle tab's connection
        using var http = new HttpClient();
        using var download = await http.GetAsync(new Uri(server.Address, $"/download/model?session={session}"));
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.Equal(WebSocketState.Open, busy.State);
        Assert.Null((await busy.AskAsync("hello"))["error"]);
        Assert.Equal(1, server.SessionCount);
    }

    /// <summary>A clock that stands still until the test moves it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }

    [Fact]
    public async Task Save_model_downloads_a_model_file_that_backprop_predict_reads()
    {
        await using var server = await StartAsync();
        await using var tab = await PlaygroundClient.ConnectAsync(server.Address);
        var session = (string)(await tab.AskAsync("hello"))["result"]!["session"]!;
        await tab.AskAsync("setup", Xor());
        await tab.AskAsync("train", new JsonObject { ["steps"] = 50 });
        using var http = new HttpClient();
        var bytes = await http.GetByteArrayAsync(new Uri(server.Address, $"/download/model?session={session}"));
        using var folder = new Plotting.TempFolder();
        var path = folder["xor.bpm"];
        File.WriteAllBytes(path, bytes);

        var model = Model<double>.Load(path);
        Assert.Equal(["negative", "positive"], model.ClassNames);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(0, Backprop.Cli.BackpropCli.Run(["predict", "--model", path, "--input", "3,3"], stdout, stderr));
        Assert.Contains("positive", stdout.ToString(), StringComparison.Ordinal);

        // Another session's name does not reach this tab's model.
        using var other = await http.GetAsync(new Uri(server.Address, "/download/model?session=0123456789abcdef0123456789abcdef"));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task Report_downloads_the_offline_report_of_the_run_trained_again_to_the_same_numbers()
    {
        await using var server = await StartAsync();
        await using var tab = await PlaygroundClient.ConnectAsync(server.Address);
        var session = (string)(await tab.AskAsync("hello"))["result"]!["session"]!;
        await tab.AskAsync("setup", new JsonObject { ["data"] = "sine", ["samples"] = 40, ["layers"] = "6", ["activation"] = "tanh", ["loss"] = "mse", ["optimizer"] = "adam", ["lr"] = 0.02, ["seed"] = 2 });
        var trained = await tab.AskAsync("train", new JsonObject { ["steps"] = 30 });
        using var http = new HttpClient();
        var html = await http.GetStringAsync(new Uri(server.Address, $"/download/report?session={session}"));

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);
        var loss = (double)trained["result"]!["loss"]!;
        Assert.Contains(loss.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_gradients_finds_backpropagation_agreeing_with_finite_differences()
    {
        await using var server = await StartAsync();
        await using var tab = await PlaygroundClient.ConnectAsync(server.Address);
        await tab.AskAsync("setup", Xor("3,3"));
        await tab.AskAsync("train", new JsonObject { ["steps"] = 10 });

        var check = (await tab.AskAsync("check"))["result"]!;
        Assert.Equal((2 * 3) + 3 + (3 * 3) + 3 + (3 * 2) + 2, (int)check["count"]!);
        Assert.True((double)check["maxRelativeError"]! < 1e-6, check.ToJsonString());
    }
}
