using System.Text.Json.Nodes;
using Backprop.Tests.Plotting;
using SkiaSharp;

namespace Backprop.Tests.Playground;

/// <summary>
/// Screenshots of the lesson view and of a 2-D classification view in headless Chromium: checked for
/// their colours here, and written to the folder named by BACKPROP_SCREENSHOTS when it is set (that is how
/// docs/playground-lesson.png and docs/playground-xor.png are made).
/// </summary>
public sealed class PlaygroundScreenshotTests(PlaygroundFixture fixture) : IClassFixture<PlaygroundFixture>
{
    private static async Task<SKBitmap> ShotAsync(Chromium.Tab tab, string name, int width, int height)
    {
        var shot = await tab.SendAsync("Page.captureScreenshot", new JsonObject
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
        });
        var bytes = Convert.FromBase64String((string)shot["data"]!);
        if (Environment.GetEnvironmentVariable("BACKPROP_SCREENSHOTS") is { Length: > 0 } folder)
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
        return SKBitmap.Decode(bytes);
    }

    [ChromiumFact]
    public async Task The_lesson_view_shows_the_network_the_green_squiggle_and_the_loss_surface()
    {
        var tab = await fixture.Browser.OpenAsync(fixture.Server.Address + "#tab=lesson&stage=3&point=2", offline: false);
        await tab.WaitUntilAsync("document.body.dataset.ready === 'true' && document.getElementById('surface-path') !== null");
        await tab.EvaluateAsync("document.getElementById('backward').click()");
        await tab.WaitUntilAsync("!document.getElementById('backward-panel').hidden");
        for (var k = 0; k < 4; k++)
        {
            await tab.EvaluateAsync("document.getElementById('bw-next').click()");
        }
        using var image = await ShotAsync(tab, "playground-lesson.png", 1400, 1240);

        var pixels = image.Pixels;
        Assert.True(pixels.Count(p => p.Green > 120 && p.Red < 80 && p.Blue < 100) > 300, "the green squiggle");
        Assert.True(pixels.Count(p => p.Red > 200 && p.Green < 80 && p.Blue < 60) > 50, "the highlighted node");
        Assert.True(pixels.Count(p => p.Red < 90 && p.Green < 40 && p.Blue > 60) > 1000, "the loss surface's dark valley");
    }

    [ChromiumFact]
    public async Task The_classification_view_shows_the_decision_boundary_the_points_and_each_neuron()
    {
        var tab = await fixture.Browser.OpenAsync(fixture.Server.Address + "#tab=play&data=spiral&samples=300&noise=0&layers=8,8,8&activation=tanh&optimizer=adam&lr=0.03&batch=10&seed=1", offline: false);
        await tab.WaitUntilAsync("document.body.dataset.ready === 'true' && document.getElementById('p-accuracy').dataset.value !== undefined");
        await tab.EvaluateAsync("document.getElementById('p-play').click()");
        await tab.WaitUntilAsync("Number(document.getElementById('p-accuracy').dataset.value) >= 0.97 || Number(document.getElementById('p-steps').textContent) >= 6000", TimeSpan.FromMinutes(4));
        await tab.EvaluateAsync("document.getElementById('p-play').click()");
        await tab.WaitUntilAsync("document.getElementById('p-play').textContent === 'Play'");
        using var image = await ShotAsync(tab, "playground-spiral.png", 1400, 820);

        var pixels = image.Pixels;
        Assert.True(pixels.Count(p => p.Blue > 150 && p.Red < 120) > 2000, "blue: the positive class's region and points");
        Assert.True(pixels.Count(p => p.Red > 200 && p.Green is > 70 and < 170 && p.Blue < 80) > 2000, "orange: the negative class's region and points");
    }
}
