using System.Text.RegularExpressions;
using Backprop.Plotting;
using static Backprop.Tests.Plotting.PlotHarness;

namespace Backprop.Tests.Plotting;

public sealed partial class TrainingReportPageTests
{
    [Fact]
    public void The_page_fetches_nothing_every_script_and_style_is_inline()
    {
        var html = TrainingReportPage.Render(LessonRecord().Record);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"<script[^>]*\ssrc=", html);
        Assert.DoesNotMatch(@"<link\b", html);
        Assert.DoesNotMatch(@"<img\b", html);
        Assert.DoesNotMatch(@"url\((?!#)", html);
        // The only address on the page is SVG's namespace name, which is never fetched.
        Assert.Equal(["http://www.w3.org/2000/svg"], Addresses().Matches(html).Select(m => m.Value).Distinct());
    }

    [Fact]
    public void The_page_has_the_run_its_settings_and_its_stop_reason()
    {
        var html = TrainingReportPage.Render(LessonRecord().Record);

        Assert.Contains("Dense(1 → 2, SoftPlus) → Dense(2 → 1, Identity)", html, StringComparison.Ordinal);
        Assert.Contains("<dt>learning rate</dt><dd>0.1</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>stopped</dt><dd>after 472 steps: every step size is below 0.001</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>data</dt><dd>dosage: 3 rows; inputs Dosage; target Efficacy</dd>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_from_the_data_are_escaped()
    {
        var (record, _) = LessonRecord(maxSteps: 3);
        var data = new Backprop.Data.Dataset("<b>evil</b>.csv", [0, 0.5, 1], [0, 1, 0], ["</script><script>alert(1)</script>"], ["a & b"]);
        var html = TrainingReportPage.Render(record with { Data = data });

        Assert.DoesNotContain("<b>evil", html, StringComparison.Ordinal);
        Assert.DoesNotContain("</script><script>alert", html, StringComparison.Ordinal);
        Assert.Contains("a &amp; b", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_run_keeps_the_page_small()
    {
        var (record, _) = LessonRecord(maxSteps: 20_000, minStepSize: null);
        var html = TrainingReportPage.Render(record);

        Assert.Equal(20_000, record.Result.Steps);
        Assert.InRange(record.Recorder.Snapshots.Count, 100, 202);
        Assert.True(html.Length < 500_000, $"the page is {html.Length} characters");
    }

    [Fact]
    public void A_report_into_a_folder_or_a_missing_folder_is_refused_by_name()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<BackpropException>(() => TrainingReportPage.CheckFile(folder.Path));
        Assert.Equal($"--report needs a file name, but '{folder.Path}' is a folder.", e.Message);

        var missing = Path.Combine(folder.Path, "no-such-folder", "report.html");
        e = Assert.Throws<BackpropException>(() => TrainingReportPage.CheckFile(missing));
        Assert.Equal($"--report cannot write '{missing}': the folder '{Path.GetDirectoryName(missing)}' does not exist.", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public void Writing_replaces_an_old_report_whole_and_leaves_no_temporary_file()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["report.html"], "old");
        TrainingReportPage.Write(folder["report.html"], LessonRecord().Record);

        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(folder["report.html"]), StringComparison.Ordinal);
        Assert.Equal(["report.html"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [GeneratedRegex(@"https?://[^\s""'<>)]+")]
    private static partial Regex Addresses();
}
