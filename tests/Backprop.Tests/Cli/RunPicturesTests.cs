using System.Xml.Linq;
using static Backprop.Tests.Cli.CliHarness;
using static Backprop.Tests.Cli.TuningOptionsTests;

namespace Backprop.Tests.Cli;

/// <summary>What <c>--plot</c> and <c>--report</c> draw for a regression with validation rows and for a classifier.</summary>
public sealed class RunPicturesTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static List<string> Texts(string svg) => [.. XDocument.Load(svg).Descendants(Svg + "text").Select(t => t.Value.Trim())];

    [Fact]
    public void A_deep_networks_gradients_start_at_step_1_with_a_colour_for_each_of_its_12_layers()
    {
        using var csv = new TempCsv("x,y\n0,0\n0.5,1\n1,0\n");
        var folder = Path.GetDirectoryName(csv.Path)!;
        var (plots, report) = (Path.Combine(folder, "plots"), Path.Combine(folder, "run.html"));

        var run = Run("train", "--data", csv.Path, "--layers", "1,2,2,2,2,2,2,2,2,2,2,2,1", "--activation", "tanh", "--max-steps", "40", "--min-step", "0", "--plot", plots, "--report", report);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var html = File.ReadAllText(report);
        Assert.Contains("<figcaption>Gradients</figcaption>", html, StringComparison.Ordinal);
        var data = System.Text.Json.JsonDocument.Parse(System.Text.RegularExpressions.Regex.Match(html, "<script type=\"application/json\" id=\"report-data\">(.*?)</script>").Groups[1].Value).RootElement;
        Assert.Equal([0, 1], data.GetProperty("steps").EnumerateArray().Take(2).Select(s => s.GetInt32()));
        var stepOne = data.GetProperty("gradientMarkers")[1].GetString();
        var paths = System.Text.RegularExpressions.Regex.Matches(html, "<path class=\"gradient\" d=\"M([0-9.]+) [^\"]*\" fill=\"none\" stroke=\"(#[0-9a-f]{6})\"");
        // One line per layer, each from step 1 (the first gradients), no two of one colour.
        Assert.Equal(12, paths.Count);
        Assert.All(paths, p => Assert.Equal(stepOne, p.Groups[1].Value));
        Assert.Equal(12, paths.Select(p => p.Groups[2].Value).Distinct(StringComparer.Ordinal).Count());
        var legend = Texts(Path.Combine(plots, "gradients.svg"));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"layer{i}"), legend.Where(t => t.StartsWith("layer", StringComparison.Ordinal)));
        // The picture's lines in the same twelve colours as the page's (each drawn and shown in the legend).
        var svg = File.ReadAllText(Path.Combine(plots, "gradients.svg"));
        Assert.All(paths, p => Assert.Contains($"stroke=\"{p.Groups[2].Value.ToUpperInvariant()}\"", svg, StringComparison.Ordinal));
    }

    [Fact]
    public void A_regression_with_validation_draws_its_loss_per_epoch_and_the_report_says_its_epochs()
    {
        using var csv = new TempCsv(CurveCsv());
        var folder = Path.GetDirectoryName(csv.Path)!;
        var (plots, report) = (Path.Combine(folder, "plots"), Path.Combine(folder, "run.html"));

        var run = Run("train", "--data", csv.Path, "--layers", "1,8,1", "--activation", "tanh", "--loss", "mse", "--optimizer", "adam", "--lr", "0.02",
            "--epochs", "5", "--batch", "16", "--validation", "0.25", "--plot", plots, "--report", report);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Pictures: fit, loss, gradients, epochs (PNG and SVG)", run.Stdout, StringComparison.Ordinal);
        var texts = Texts(Path.Combine(plots, "epochs.svg"));
        Assert.Contains("training", texts);
        Assert.Contains("validation", texts);
        Assert.Contains(texts, t => t.StartsWith("Loss per epoch: training ", StringComparison.Ordinal) && t.EndsWith(" after epoch 5", StringComparison.Ordinal));
        var html = File.ReadAllText(report);
        Assert.Contains("id=\"epochs-figure\"", html, StringComparison.Ordinal);
        // The stopping rules of a run counted in epochs say so (not "at most 2147483647 steps").
        Assert.Contains("<dd>5 epochs</dd>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_classifiers_fit_is_the_probability_of_each_rows_true_class()
    {
        using var csv = new TempCsv(NoisyClassesCsv());
        var plots = Path.Combine(Path.GetDirectoryName(csv.Path)!, "plots");

        var run = Run("train", "--data", csv.Path, "--layers", "2,8,3", "--optimizer", "adam", "--lr", "0.02", "--epochs", "3", "--batch", "32", "--plot", plots);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var texts = Texts(Path.Combine(plots, "fit.svg"));
        Assert.Contains("probability of the true class", texts);
        Assert.Contains("kind (observed class)", texts);
        Assert.Contains("a", texts);
        Assert.Contains("c", texts);
    }
}
