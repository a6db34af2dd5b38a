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
