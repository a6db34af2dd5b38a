using System.Globalization;
using Backprop.Plotting;
using SkiaSharp;
using static Backprop.Tests.Plotting.PlotHarness;

namespace Backprop.Tests.Plotting;

/// <summary>One browser for all the tests of a class, started when the first test needs it.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private Chromium? browser;

    internal Chromium Browser => browser ??= Chromium.Start();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }
    }
}

/// <summary>The HTML report in a real headless browser (Debian's chromium), offline; each test in its own tab.</summary>
public sealed class ReportInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private async Task<Chromium.Tab> OpenAsync(TrainingRecord record)
    {
        var path = folder["report.html"];
        TrainingReportPage.Write(path, record);
        return await chromium.Browser.OpenAsync(new Uri(path).AbsoluteUri);
    }

    [ChromiumFact]
    public async Task The_report_loads_offline_with_no_errors_and_requests_nothing_but_itself()
    {
        var tab = await OpenAsync(LessonRecord().Record);

        Assert.Empty(tab.Errors);
        Assert.All(tab.Requests, url => Assert.StartsWith("file://", url, StringComparison.Ordinal));
        Assert.Equal("step 472 of 472 (final)", (string?)await tab.EvaluateAsync("document.getElementById('step-label').textContent"));
    }

    [ChromiumFact]
    public async Task Moving_the_slider_changes_the_curve_the_loss_marker_and_the_current_values()
    {
        var (record, _) = LessonRecord();
        var tab = await OpenAsync(record);
        const string state = "JSON.stringify([document.getElementById('curve').getAttribute('d'), document.getElementById('loss-marker').getAttribute('cx'), Array.from(document.querySelectorAll('#parameters td.current')).map(c => c.textContent)])";
        var final = (string)(await tab.EvaluateAsync(state))!;

        await tab.EvaluateAsync("(() => { const s = document.getElementById('slider'); s.value = 0; s.dispatchEvent(new Event('input')); })()");
        var start = System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>((string)(await tab.EvaluateAsync(state))!);
        var startCurve = (string?)await tab.EvaluateAsync("document.getElementById('start-curve').getAttribute('d')");

        Assert.NotEqual(final, start.GetRawText());
        // At step 0 the curve is the starting curve and the table shows the starting values.
        Assert.Equal(startCurve, start[0].GetString());
        Assert.Equal(["2.74", "0", "-1.13", "0", "0.36", "0.63", "0"], start[2].EnumerateArray().Select(c => c.GetString()));
        // The marker sits on the loss curve's first point (step 0, the starting loss).
        var lossCurve = (string)(await tab.EvaluateAsync("document.getElementById('loss-curve').getAttribute('d')"))!;
        var first = lossCurve[1..lossCurve.IndexOf('L', StringComparison.Ordinal)].Split(' ');
        Assert.Equal(first[0], start[1].GetString());
        Assert.Equal(first[1], (string?)await tab.EvaluateAsync("document.getElementById('loss-marker').getAttribute('cy')"));
        Assert.True(double.Parse(first[0], CultureInfo.InvariantCulture) < double.Parse(System.Text.Json.JsonDocument.Parse(final).RootElement[1].GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal("step 0 of 472", (string?)await tab.EvaluateAsync("document.getElementById('step-label').textContent"));
        Assert.Empty(tab.Errors);
    }

    [ChromiumFact]
    public async Task Play_runs_the_slider_forward_from_the_start()
    {
        var tab = await OpenAsync(LessonRecord().Record);
        // Where the slider was, and where it is right after the click (in the same script: no timer can
        // run between them, however busy the machine).
        var values = (await tab.EvaluateAsync(
            "(() => { var s = document.getElementById('slider'); var b = Number(s.value); document.getElementById('play').click(); return [b, Number(s.value), Number(s.max)]; })()"))!
            .AsArray().Select(v => (double)v!).ToArray();
        var (before, first, max) = (values[0], values[1], values[2]);
        // Then it moves on by itself (the page's timer), however long that takes.
        await tab.WaitUntilAsync($"Number(document.getElementById('slider').value) > {first}");

        Assert.Equal(max, before); // the report opens on the final snapshot
        Assert.Equal(0, first); // play restarts from the first snapshot
        Assert.Empty(tab.Errors);
    }

    [ChromiumFact]
    public async Task A_screenshot_of_the_report_is_not_blank_and_shows_the_green_curve()
    {
        var tab = await OpenAsync(LessonRecord().Record);
        using var image = SKBitmap.Decode(await tab.ScreenshotAsync());

        Assert.Equal((1400, 1000), (image.Width, image.Height));
        var pixels = image.Pixels;
        var inked = pixels.Count(p => p.Red < 200 || p.Green < 200 || p.Blue < 200);
        Assert.True(inked > pixels.Length / 100, $"only {inked} pixels are not near white");
        var green = pixels.Count(p => p.Green > 120 && p.Red < 80 && p.Blue < 100);
        Assert.True(green > 500, $"only {green} green pixels");
    }

    [ChromiumFact]
    public async Task A_report_of_several_inputs_loads_and_its_points_move_with_the_slider()
    {
        var tab = await OpenAsync(TwoInputRecord());
        const string ys = "Array.from(document.querySelectorAll('#points circle')).map(c => c.getAttribute('cy')).join(' ')";
        var final = (string?)await tab.EvaluateAsync(ys);
        await tab.EvaluateAsync("(() => { const s = document.getElementById('slider'); s.value = 0; s.dispatchEvent(new Event('input')); })()");
        var start = (string?)await tab.EvaluateAsync(ys);

        Assert.Equal(40, final!.Split(' ').Length);
        Assert.NotEqual(final, start);
        Assert.Empty(tab.Errors);
    }
    [ChromiumFact]
    public async Task The_gradient_marker_follows_the_slider_and_spans_the_page_width()
    {
        var tab = await OpenAsync(LessonRecord().Record);
        const string x = "document.getElementById('gradient-marker').getAttribute('x1')";
        var final = double.Parse((string)(await tab.EvaluateAsync(x))!, CultureInfo.InvariantCulture);
        await tab.EvaluateAsync("(() => { const s = document.getElementById('slider'); s.value = 1; s.dispatchEvent(new Event('input')); })()");
        var early = double.Parse((string)(await tab.EvaluateAsync(x))!, CultureInfo.InvariantCulture);

        Assert.True(early < final, $"marker at {early} for step 1, {final} for the last step");
        Assert.Equal(7, (double)(await tab.EvaluateAsync("document.querySelectorAll('path.gradient').length"))!);
        // The three charts of the first row share the 1400-pixel window rather than keeping a fixed width.
        var widths = (string)(await tab.EvaluateAsync("Array.from(document.querySelectorAll('svg.chart')).map(s => Math.round(s.getBoundingClientRect().width)).join(' ')"))!;
        var total = widths.Split(' ').Sum(w => int.Parse(w, CultureInfo.InvariantCulture));
        Assert.True(total > 1200, $"chart widths {widths}");
        Assert.Empty(tab.Errors);
    }

    [ChromiumFact]
    public async Task A_classifiers_report_shows_its_learning_curves_confusion_matrix_and_mistakes()
    {
        var tab = await OpenAsync(ImageClassifierRecord());
        var figures = (string)(await tab.EvaluateAsync("Array.from(document.querySelectorAll('figure img.chart')).map(i => i.closest('figure').id + ':' + (i.complete && i.naturalWidth > 0)).join(' ')"))!;

        Assert.Equal("epochs-figure:true accuracy-figure:true confusion-figure:true misclassified-figure:true", figures);
        Assert.Empty(tab.Errors);
        Assert.All(tab.Requests, url => Assert.True(url.StartsWith("file://", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), url));
    }
}
