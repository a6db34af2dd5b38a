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
    // The whole page, as tall as it is (at most 2,000 pixels).
    private static async Task<SKBitmap> ShotAsync(Chromium.Tab tab, string name)
    {
        var height = Math.Min(2000, (double)(await tab.EvaluateAsync("document.documentElement.scrollHeight"))!);
        var shot = await tab.SendAsync("Page.captureScreenshot", new JsonObject
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = 1400, ["height"] = height, ["scale"] = 1 },
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
        var tab = await fixture.Browser.OpenAsync(fixture.Server.Address + "#tab=lesson&stage=3&point=2&sx=w1&sy=w2&slr=0.1", offline: false);
        await tab.WaitUntilAsync("document.body.dataset.ready === 'true' && document.getElementById('surface-path') !== null");
        await tab.EvaluateAsync("document.getElementById('backward').click()");
        await tab.WaitUntilAsync("!document.getElementById('backward-panel').hidden");
        for (var k = 0; k < 4; k++)
        {
            await tab.EvaluateAsync("document.getElementById('bw-next').click()");
        }
        Assert.Equal("y2,i", (string?)await tab.EvaluateAsync("document.getElementById('bw-node').textContent"));
        // Gradient descent over w1 and w2 at 0.1 settles inside the picture: its end is drawn.
        Assert.Equal(true, (bool?)await tab.EvaluateAsync("document.getElementById('surface-end') !== null"));
        using var image = await ShotAsync(tab, "playground-lesson.png");

        var pixels = image.Pixels;
        Assert.True(pixels.Count(p => p.Green > 120 && p.Red < 80 && p.Blue < 100) > 300, "the green squiggle");
        Assert.True(pixels.Count(p => p.Red > 200 && p.Green < 80 && p.Blue < 60) > 50, "the highlighted node");
        Assert.True(pixels.Count(p => p.Red < 90 && p.Green < 40 && p.Blue > 60) > 1000, "the loss surface's dark valley");
    }

    [ChromiumFact]
    public async Task The_classification_view_shows_the_decision_boundary_the_points_and_each_neuron()
    {
        var tab = await fixture.Browser.OpenAsync(fixture.Server.Address + "#tab=play&data=spiral&samples=300&noise=0&layers=8,8,8&activation=tanh&optimizer=adam&lr=0.01&batch=0&seed=1", offline: false);
        await tab.WaitUntilAsync("document.body.dataset.ready === 'true' && document.getElementById('p-accuracy').dataset.value !== undefined");
        // Trained by the page's own step messages, 250 steps each, to 99% (a few hundred full-batch steps).
        for (var k = 0; k < 40; k++)
        {
            var view = (await tab.EvaluateAsync("trainSteps(250).then(v => v.accuracy)"))!;
            if ((double)view >= 0.99)
            {
                break;
            }
        }
        var accuracy = (double)(await tab.EvaluateAsync("Number(document.getElementById('p-accuracy').dataset.value)"))!;
        Assert.True(accuracy >= 0.99, $"accuracy {accuracy}");
        using var image = await ShotAsync(tab, "playground-spiral.png");

        var pixels = image.Pixels;
        Assert.True(pixels.Count(p => p.Blue > 150 && p.Red < 120) > 2000, "blue: the positive class's region and points");
        Assert.True(pixels.Count(p => p.Red > 200 && p.Green is > 70 and < 170 && p.Blue < 80) > 2000, "orange: the negative class's region and points");
    }
}
