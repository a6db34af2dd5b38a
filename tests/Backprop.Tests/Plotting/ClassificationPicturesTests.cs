using System.Xml.Linq;
using Backprop.Plotting;
using Backprop.Training;
using SkiaSharp;
using static Backprop.Tests.Plotting.PlotHarness;

namespace Backprop.Tests.Plotting;

public sealed class ClassificationPicturesTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static readonly Lazy<TrainingRecord> Record = new(() => ImageClassifierRecord());

    [Fact]
    public void A_classifier_gets_learning_curves_a_confusion_matrix_and_its_worst_mistakes_as_png_and_svg()
    {
        using var folder = new TempFolder();
        var written = TrainingPictures.Write(folder.Path, Record.Value);

        string[] names = ["fit", "loss", "gradients", "epochs", "accuracy", "confusion", "misclassified"];
        Assert.Equal(names, TrainingPictures.NamesFor(Record.Value));
        var expected = names.SelectMany(n => new[] { n + ".png", n + ".svg" }).Order(StringComparer.Ordinal);
        Assert.Equal(expected, Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(expected, written.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            using var image = SKBitmap.Decode(folder[name + ".png"]);
            Assert.NotNull(image);
            var inked = image.Pixels.Count(p => p.Red < 200 || p.Green < 200 || p.Blue < 200);
            Assert.True(inked > image.Pixels.Length / 50, $"{name}.png: only {inked} pixels are not near white");
            XDocument.Load(folder[name + ".svg"]);
        }
    }

    [Fact]
    public void A_classifiers_fit_shows_each_rows_probability_of_its_true_class_in_its_class_column()
    {
        var record = Record.Value;
        var (xs, probabilities) = TrainingPictures.TrueClassProbabilities(record, record.Recorder.Snapshots[^1]);

        // Each row sits in its own class's column, within ±0.3 of it, at a probability between 0 and 1.
        for (var r = 0; r < xs.Length; r++)
        {
            Assert.InRange(xs[r] - record.Data.Targets[r], -0.3, 0.3);
            Assert.InRange(probabilities[r], 0, 1);
        }
        // Trained on bars it tells apart: most rows get their class above ½ at the end, far fewer at the start.
        var start = TrainingPictures.TrueClassProbabilities(record, record.Recorder.Snapshots[0]).Probability;
        Assert.True(probabilities.Count(p => p > 0.5) > start.Count(p => p > 0.5) + (xs.Length / 4), $"{probabilities.Count(p => p > 0.5)} vs {start.Count(p => p > 0.5)} of {xs.Length}");
        var svg = XDocument.Parse(TrainingPictures.Fit(record).GetSvgXml(TrainingPictures.Width, TrainingPictures.Height));
        var texts = svg.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("probability of the true class", texts);
        Assert.Contains("shape (observed class)", texts);
        Assert.Contains($"Probability of the true class after {record.Result.Steps} steps: above ½ for {probabilities.Count(p => p > 0.5)} of {xs.Length} rows", texts);
        Assert.All(record.Data.ClassNames!, name => Assert.Contains(name, texts));
        Assert.Contains("chance (1/3)", texts);
    }

    [Fact]
    public void Without_images_there_is_no_misclassified_picture()
    {
        var c = Record.Value.Classification!;
        var plain = c with { Images = null };
        Assert.Equal(["epochs", "accuracy", "confusion"], ClassificationPictures.NamesFor(plain));
        Assert.False(plain.HasImages);
        // An image shape that does not match the inputs draws no images either.
        Assert.False((c with { ImageHeight = 5 }).HasImages);
    }

    [Fact]
    public void The_epoch_curves_have_one_point_per_epoch_for_training_and_validation()
    {
        var c = Record.Value.Classification!;
        Assert.Equal(4, c.Epochs.Count);
        foreach (var plot in new[] { ClassificationPictures.Losses(c), ClassificationPictures.Accuracy(c) })
        {
            var svg = XDocument.Parse(plot.GetSvgXml(TrainingPictures.Width, TrainingPictures.Height));
            var text = string.Concat(svg.Descendants(Svg + "text").Select(t => t.Value));
            Assert.Contains("training", text, StringComparison.Ordinal);
            Assert.Contains("validation", text, StringComparison.Ordinal);
            Assert.Contains("epoch", text, StringComparison.Ordinal);
        }
        var accuracy = ClassificationPictures.Accuracy(c).GetSvgXml(TrainingPictures.Width, TrainingPictures.Height);
        // The title gives the last epoch's figures, as percentages.
        var last = c.Epochs[^1];
        Assert.Contains($"validation {100 * last.ValidationAccuracy!.Value:0.##}% after epoch 4", accuracy, StringComparison.Ordinal);
    }

    [Fact]
    public void The_confusion_matrix_writes_every_count_in_its_cell()
    {
        var c = Record.Value.Classification!;
        var svg = XDocument.Parse(ClassificationPictures.Confusion(c).GetSvgXml(TrainingPictures.Width, TrainingPictures.Height));
        var texts = svg.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        for (var o = 0; o < 3; o++)
        {
            for (var p = 0; p < 3; p++)
            {
                Assert.Contains(c.Confusion[o, p].ToString(System.Globalization.CultureInfo.InvariantCulture), texts);
            }
        }
        Assert.Contains("horizontal", texts);
        Assert.Contains("diagonal", texts);
        Assert.Equal(120, c.Confusion.Total);
    }

    [Fact]
    public void The_misclassified_grid_is_tall_enough_for_square_images_and_names_both_classes()
    {
        var c = Record.Value.Classification!;
        Assert.NotEmpty(c.Misclassified);
        var (width, height) = ClassificationPictures.GridSize(c);
        Assert.Equal(TrainingPictures.Width, width);
        var rows = (Math.Min(c.Misclassified.Count, ClassificationPictures.MaxImages) + 5) / 6;
        Assert.InRange(height, rows * 120, (rows * 220) + 80);
        var svg = ClassificationPictures.Misclassified(c).GetSvgXml(width, height);
        var worst = c.Misclassified[0];
        Assert.Contains($"true: {c.Confusion.ClassNames[worst.Observed]}", svg, StringComparison.Ordinal);
        Assert.Contains($"pred: {c.Confusion.ClassNames[worst.Predicted]}", svg, StringComparison.Ordinal);
    }
}
