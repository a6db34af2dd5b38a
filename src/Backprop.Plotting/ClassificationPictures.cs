using System.Globalization;
using Backprop.Training;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Backprop.Plotting;

/// <summary>
/// Pictures of a classifier's training: <c>epochs</c> (training and validation loss per epoch),
/// <c>accuracy</c> (training and validation accuracy per epoch), <c>confusion</c> (the confusion
/// matrix, each row shaded by the share of its class) and, for image data, <c>misclassified</c>
/// (the images the model got wrong most confidently, with the true and the predicted class).
/// </summary>
public static class ClassificationPictures
{
    /// <summary>How many misclassified images the grid shows at most.</summary>
    public const int MaxImages = 24;

    private const int GridColumns = 6;

    // Each cell of the misclassified grid is 1 wide and 1.45 high: the image in its top square, two lines of text beneath.
    private const double CellHeight = 1.45;

    /// <summary>
    /// The size in pixels of the <c>misclassified</c> picture: as wide as the others, and tall enough
    /// that each image stays square with its two caption lines beneath it.
    /// </summary>
    public static (int Width, int Height) GridSize(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var rows = Math.Max(1, (Math.Min(record.Misclassified.Count, MaxImages) + GridColumns - 1) / GridColumns);
        var cell = (TrainingPictures.Width - 40) / (double)GridColumns;
        return (TrainingPictures.Width, (int)Math.Ceiling((rows * CellHeight * cell) + 60));
    }

    /// <summary>The names of the pictures drawn for <paramref name="record"/>, without extension.</summary>
    public static IReadOnlyList<string> NamesFor(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.HasImages ? ["epochs", "accuracy", "confusion", "misclassified"] : ["epochs", "accuracy", "confusion"];
    }

    /// <summary>Draws each picture of <see cref="NamesFor"/>, in that order.</summary>
    public static IEnumerable<Plot> Draw(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        yield return Losses(record);
        yield return Accuracy(record);
        yield return Confusion(record);
        if (record.HasImages)
        {
            yield return Misclassified(record);
        }
    }

    /// <summary>Training and validation loss per epoch.</summary>
    public static Plot Losses(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Curves(record.Epochs, "loss", e => e.TrainLoss, e => e.ValidationLoss, "Loss per epoch");
    }

    /// <summary>Training and validation loss per epoch of any run (a regression's <c>epochs</c> picture).</summary>
    public static Plot Losses(IReadOnlyList<EpochRecord> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        return Curves(epochs, "loss", e => e.TrainLoss, e => e.ValidationLoss, "Loss per epoch");
    }

    /// <summary>Training and validation accuracy per epoch, in percent.</summary>
    public static Plot Accuracy(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Curves(record.Epochs, "accuracy (%)", e => 100 * e.TrainAccuracy, e => 100 * e.ValidationAccuracy, "Accuracy per epoch", percent: true);
    }

    private static Plot Curves(IReadOnlyList<EpochRecord> epochs, string what, Func<EpochRecord, double?> train, Func<EpochRecord, double?> validation, string title, bool percent = false)
    {
        var plot = TrainingPictures.NewPlot();
        var xs = epochs.Select(e => (double)e.Epoch).ToArray();
        var series = new List<(string Name, double[] Ys)> { ("training", Values(epochs, train)) };
        if (epochs.Any(e => validation(e) is not null))
        {
            series.Add(("validation", Values(epochs, validation)));
        }
        for (var i = 0; i < series.Count; i++)
        {
            var line = plot.Add.Scatter(xs, series[i].Ys);
            line.Color = SeriesColors.Get(i, series.Count);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = series[i].Name;
        }
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
        plot.XLabel("epoch");
        plot.YLabel(what);
        var unit = percent ? "%" : "";
        var last = epochs.Count == 0 ? "" : $": {string.Join(", ", series.Select(s => $"{s.Name} {Number(s.Ys[^1])}{unit}"))} after epoch {epochs[^1].Epoch}";
        plot.Title(title + last);
        // Loss falls and accuracy rises: the legend goes where the curves are not.
        plot.ShowLegend(percent ? Alignment.LowerRight : Alignment.UpperRight);
        return plot;
    }

    private static double[] Values(IReadOnlyList<EpochRecord> epochs, Func<EpochRecord, double?> value)
        => [.. epochs.Select(e => value(e) is { } v && double.IsFinite(v) ? v : double.NaN)];

    /// <summary>
    /// The confusion matrix: observed class down, predicted class across, each cell's count written
    /// in it and shaded by the share of its row (its class), so a weak class stands out whatever its size.
    /// </summary>
    public static Plot Confusion(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var matrix = record.Confusion;
        var n = matrix.Classes;
        var plot = TrainingPictures.NewPlot();
        var shares = new double[n, n];
        for (var observed = 0; observed < n; observed++)
        {
            long total = 0;
            for (var p = 0; p < n; p++)
            {
                total += matrix[observed, p];
            }
            for (var predicted = 0; predicted < n; predicted++)
            {
                // Row 0 of a heatmap is drawn at the top, as the first class should be.
                shares[observed, predicted] = total == 0 ? 0 : (double)matrix[observed, predicted] / total;
            }
        }
        var map = plot.Add.Heatmap(shares);
        map.Colormap = new WhiteToBlue();
        // The extent places the centres of the edge cells (see Misclassified): cell (o, p) is centred on (p, n − 1 − o).
        map.Extent = new CoordinateRect(0, n - 1, 0, n - 1);
        var fontSize = n <= 10 ? 13 : n <= 20 ? 9 : 0;
        for (var observed = 0; observed < n && fontSize > 0; observed++)
        {
            for (var predicted = 0; predicted < n; predicted++)
            {
                var text = plot.Add.Text(matrix[observed, predicted].ToString(CultureInfo.InvariantCulture), predicted, n - 1 - observed);
                text.LabelFontSize = fontSize;
                text.LabelFontName = PlotFonts.Name;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = shares[observed, predicted] > 0.5 ? Colors.White : Colors.Black;
            }
        }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var names = matrix.ClassNames.ToArray();
        plot.Axes.Bottom.TickGenerator = new NumericManual(positions, names);
        plot.Axes.Left.TickGenerator = new NumericManual(positions, [.. names.Reverse()]);
        SlantNames(plot, names);
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        plot.XLabel("predicted class");
        plot.YLabel("observed class");
        plot.Title($"Confusion matrix on the {record.ScoredOn} data: {Number(100 * matrix.Accuracy)}% correct of {matrix.Total}");
        return plot;
    }

    /// <summary>More than five class names along the bottom are slanted, with room made for them.</summary>
    internal static void SlantNames(Plot plot, IReadOnlyList<string> names)
    {
        var slant = names.Count > 5;
        plot.Axes.Bottom.TickLabelStyle.Rotation = slant ? 40 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = slant ? Alignment.MiddleLeft : Alignment.UpperCenter;
        if (slant)
        {
            // NOTE: room for the slanted names below the plot (and the last one's end on the right), else
            // they run off the picture and under the axis label: about 7 px a character at 40°.
            var longest = names.Max(name => name.Length);
            plot.Axes.Bottom.MinimumSize = (float)((7 * longest * Math.Sin(40 * Math.PI / 180)) + 50);
            plot.Axes.Right.MinimumSize = (float)(7 * names[^1].Length * Math.Cos(40 * Math.PI / 180));
        }
    }

    /// <summary>
    /// The images the model got wrong most confidently, in rows of six: each with its true class, the
    /// predicted class and the model's probability for it.
    /// </summary>
    public static Plot Misclassified(ClassificationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!record.HasImages)
        {
            throw new ArgumentException("The record has no images to draw.", nameof(record));
        }
        var data = record.Images!;
        var (height, width) = (record.ImageHeight, record.ImageWidth);
        var names = record.Confusion.ClassNames;
        var shown = record.Misclassified.Take(MaxImages).ToArray();
        var rows = (shown.Length + GridColumns - 1) / GridColumns;
        var plot = TrainingPictures.NewPlot();
        for (var i = 0; i < shown.Length; i++)
        {
            var (column, row) = (i % GridColumns, i / GridColumns);
            var pixels = new double[height, width];
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    pixels[y, x] = data.Input(shown[i].Row, (y * width) + x);
                }
            }
            var top = -row * CellHeight;
            var image = plot.Add.Heatmap(pixels);
            image.Colormap = new ScottPlot.Colormaps.Grayscale();
            // NOTE: a heatmap's extent places the centres of its edge cells, so the picture reaches
            // half a pixel beyond it: shrink by that much to fill exactly [0.05, 0.95] of the cell.
            var (halfX, halfY) = (0.45 / width, 0.45 / height);
            image.Extent = new CoordinateRect(column + 0.05 + halfX, column + 0.95 - halfX, top - 0.9 + halfY, top - halfY);
            var caption = plot.Add.Text($"true: {names[shown[i].Observed]}\npred: {names[shown[i].Predicted]} {Number(100 * shown[i].Confidence)}%", column + 0.5, top - 0.93);
            caption.LabelFontSize = 11;
            caption.LabelFontName = PlotFonts.Name;
            caption.LabelAlignment = Alignment.UpperCenter;
        }
        plot.Axes.SetLimits(0, GridColumns, (-rows * CellHeight) + 0.05, 0.05);
        plot.HideAxesAndGrid();
        plot.Title($"The {shown.Length} {record.ScoredOn} images misclassified most confidently");
        return plot;
    }

    // Share 0 is white, share 1 the dark blue of Category10's first colour's family, linear in between.
    private sealed class WhiteToBlue : IColormap
    {
        public string Name => "white to blue";

        public Color GetColor(double normalizedIntensity)
        {
            var t = double.IsFinite(normalizedIntensity) ? Math.Clamp(normalizedIntensity, 0, 1) : 0;
            static byte Mix(int from, int to, double t) => (byte)Math.Round(from + ((to - from) * t));
            return new Color(Mix(255, 8, t), Mix(255, 48, t), Mix(255, 107, t));
        }
    }

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("0.##", CultureInfo.InvariantCulture) : "–";
}
