using System.Globalization;
using Backprop.Tests.Plotting;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>The report that <c>train --report</c> writes, opened in a real headless browser (Debian's chromium), offline.</summary>
public sealed class ReportCommandInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [ChromiumFact]
    public async Task The_commands_report_shows_the_gradient_chart_and_spreads_its_charts_over_the_page_width()
    {
        using var csv = new TempCsv("x,y\n0,0\n0.5,1\n1,0\n");
        var report = Path.Combine(Path.GetDirectoryName(csv.Path)!, "run.html");

        var run = Run("train", "--max-steps", "40", "--report", report);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var tab = await chromium.Browser.OpenAsync(new Uri(report).AbsoluteUri);
        Assert.True((double)(await tab.EvaluateAsync("document.querySelectorAll('path.gradient').length"))! > 0);
        // The charts of the first row share the 1400-pixel window rather than keeping a fixed width.
        var widths = (string)(await tab.EvaluateAsync("Array.from(document.querySelectorAll('svg.chart')).map(s => Math.round(s.getBoundingClientRect().width)).join(' ')"))!;
        var total = widths.Split(' ').Sum(w => int.Parse(w, CultureInfo.InvariantCulture));
        Assert.True(total > 1200, $"chart widths {widths}");
        Assert.Empty(tab.Errors);
    }
}
