using System.Globalization;
using Backprop.Serialization;
using Backprop.Training;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Backprop.Plotting;

/// <summary>
/// Pictures of a training run, as PNG and SVG: <c>fit</c> (the data and the fitted curve, the
/// starting curve faint behind it; predicted against observed for several inputs), <c>loss</c>
/// (loss against step, log scale, the stop marked) and <c>gradients</c> (gradient norm against step
/// per layer, or per number for small networks); with validation rows also <c>epochs</c> (training and
/// validation loss per epoch); a classifier's pictures besides (<see cref="ClassificationPictures"/>).
/// </summary>
public static class TrainingPictures
{
    /// <summary>Width of every picture, in pixels.</summary>
    public const int Width = 800;

    /// <summary>Height of every picture, in pixels.</summary>
    public const int Height = 500;

    /// <summary>The lesson's green squiggle.</summary>
    internal static readonly Color Green = Color.FromHex("#1a9641");

    /// <summary>The names of the pictures of every run, without extension.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fit", "loss", "gradients"];

    /// <summary>The names of the pictures drawn for <paramref name="record"/>: <see cref="Names"/>, then a classifier's (<see cref="ClassificationPictures.NamesFor"/>).</summary>
    public static IReadOnlyList<string> NamesFor(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Classification is { } c ? [.. Names, .. ClassificationPictures.NamesFor(c)]
            : record.HasEpochCurves ? [.. Names, "epochs"] : Names;
    }

    /// <summary>
    /// Checks that <paramref name="folder"/> can hold the pictures (creating it if needed), so that a
    /// long run does not end in an error.
    /// </summary>
    /// <exception cref="BackpropException">The path is a file, or the folder cannot be created or written.</exception>
    public static void CheckFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (File.Exists(folder))
        {
            throw new BackpropException($"--plot needs a folder, but '{folder}' is a file.");
        }
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".backprop-write-check-{Guid.NewGuid():N}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"--plot cannot write into the folder '{folder}': {e.Message}");
        }
    }

    /// <summary>Writes fit, loss and gradients (and a classifier's pictures) as PNG and SVG into <paramref name="folder"/>, all or none; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string folder, TrainingRecord record)
    {
        using var files = new AtomicFileSet();
        var written = Stage(files, folder, record);
        files.Commit();
        return written;
    }

    /// <summary>
    /// Draws fit, loss and gradients and stages them as PNG and SVG in <paramref name="files"/>, to be
    /// renamed into <paramref name="folder"/> when <paramref name="files"/> is committed; returns their paths.
    /// </summary>
    public static IReadOnlyList<string> Stage(AtomicFileSet files, string folder, TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(record);
        CheckFolder(folder);
        var written = new List<string>();
        IEnumerable<Plot> plots = [Fit(record), Loss(record), Gradients(record)];
        if (record.Classification is { } classification)
        {
            plots = plots.Concat(ClassificationPictures.Draw(classification));
        }
        else if (record.HasEpochCurves)
        {
            plots = plots.Append(ClassificationPictures.Losses(record.Epochs));
        }
        foreach (var (name, plot) in NamesFor(record).Zip(plots))
        {
            var (width, height) = name == "misclassified" ? ClassificationPictures.GridSize(record.Classification!) : (Width, Height);
            var png = Path.Combine(folder, name + ".png");
            var pngBytes = plot.GetImageBytes(width, height, ImageFormat.Png);
            files.Stage(png, "picture", s => s.Write(pngBytes));
            var svg = Path.Combine(folder, name + ".svg");
            var svgBytes = System.Text.Encoding.UTF8.GetBytes(Svg(plot, width, height));
            files.Stage(svg, "picture", s => s.Write(svgBytes));
            written.Add(png);
            written.Add(svg);
        }
        return written;
    }

    /// <summary>The fit: the data with the starting and final curves, or predicted against observed.</summary>
    public static Plot Fit(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var plot = NewPlot();
        var data = record.Data;
        var snapshots = record.Recorder.Snapshots;
        var (start, end) = (snapshots[0], snapshots[^1]);
        var steps = record.Result.Steps;
        if (record.IsCurve)
        {
            var xs = record.Recorder.Probe!.ToDoubleArray();
            var before = plot.Add.ScatterLine(xs, Finite(start.Outputs));
            before.Color = Green.WithAlpha(0.3);
            before.LineWidth = 2;
            before.LinePattern = LinePattern.Dashed;
            before.LegendText = "start";
            var after = plot.Add.ScatterLine(xs, Finite(end.Outputs));
            after.Color = Green;
            after.LineWidth = 3;
            after.LegendText = $"after {steps} step{(steps == 1 ? "" : "s")}";
            var points = plot.Add.ScatterPoints(data.Inputs.ToArray(), data.Targets.ToArray());
            points.Color = Colors.Black;
            points.MarkerSize = 10;
            points.LegendText = "data";
            plot.ShowLegend(Alignment.LowerCenter);
            plot.XLabel(data.InputNames[0]);
            plot.YLabel(data.TargetNames[0]);
            plot.Title($"The fit after {steps} step{(steps == 1 ? "" : "s")}");
        }
        else if (record.IsClassification)
        {
            ClassifierFit(plot, record, start, end);
        }
        else
        {
            var (observed, predicted) = PredictedAgainstObserved(record, end);
            var (startObserved, startPredicted) = PredictedAgainstObserved(record, start);
            var (low, high) = Range(observed.Concat(predicted));
            var diagonal = plot.Add.Line(low, low, high, high);
            diagonal.Color = Colors.Gray.WithAlpha(0.6);
            // NOTE: solid: Skia's SVG canvas cannot draw a dashed Line plot and complains on stderr for each one.
            diagonal.LineWidth = 1;
            diagonal.LegendText = "predicted = observed";
            var before = plot.Add.ScatterPoints(startObserved, startPredicted);
            before.Color = Green.WithAlpha(0.25);
            before.MarkerSize = 6;
            before.LegendText = "start";
            var after = plot.Add.ScatterPoints(observed, predicted);
            after.Color = Green;
            after.MarkerSize = 7;
            after.LegendText = $"after {steps} step{(steps == 1 ? "" : "s")}";
            var target = data.TargetNames[0];
            plot.XLabel($"{target} (observed)");
            plot.YLabel(record.IsClassification ? $"{target} (predicted class)" : $"{target} (predicted)");
            plot.Title($"Predicted against observed after {steps} step{(steps == 1 ? "" : "s")}");
            plot.ShowLegend(Alignment.UpperLeft);
        }
        return plot;
    }

    /// <summary>The loss against step on a log scale, with the stop marked.</summary>
    public static Plot Loss(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var plot = NewPlot();
        var result = record.Result;
        var (steps, losses) = LossCurve(result, maxPoints: 4000);
        var line = plot.Add.ScatterLine(steps, Log10(losses));
        line.Color = Colors.C0;
        line.LineWidth = 2;
        line.LegendText = record.LossName;
        var stop = plot.Add.VerticalLine(result.Steps);
        stop.Color = Colors.Red.WithAlpha(0.7);
        stop.LinePattern = LinePattern.Dashed;
        stop.LegendText = $"stop: {result.StopMessage}";
        LogAxis(plot);
        plot.XLabel("step");
        plot.YLabel($"{record.LossName} (log scale)");
        plot.Title($"{record.LossName}: {Number(result.InitialLoss)} → {Number(result.FinalLoss)} in {result.Steps} steps");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>The gradient norm of each layer (of each number for small networks) against step, log scale.</summary>
    public static Plot Gradients(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var plot = NewPlot();
        var recorder = record.Recorder;
        var withGradients = recorder.Snapshots.Where(s => s.GradientNorms.Length > 0).ToArray();
        var steps = withGradients.Select(s => (double)s.Step).ToArray();
        var order = record.GradientOrder;
        for (var i = 0; i < order.Count; i++)
        {
            var g = order[i];
            var line = plot.Add.ScatterLine(steps, Log10(withGradients.Select(s => s.GradientNorms[g]).ToArray()));
            line.Color = SeriesColors.Get(i, order.Count);
            line.LineWidth = 2;
            line.LegendText = recorder.GradientGroups[g];
        }
        LogAxis(plot);
        var perNumber = recorder.GradientGroups.Count == recorder.ValueNames.Count && recorder.ValueNames.Count <= SnapshotRecorder<double>.PerNumberGradientLimit;
        plot.XLabel("step");
        plot.YLabel(perNumber ? "|gradient| (log scale)" : "gradient norm (log scale)");
        plot.Title(perNumber ? "Gradient of each parameter" : "Gradient norm of each layer");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>
    /// The loss of every step (thinned evenly to at most <paramref name="maxPoints"/>): the loss at
    /// step s is the loss at the values after s updates, ending with the final loss.
    /// </summary>
    internal static (double[] Steps, double[] Losses) LossCurve(TrainingResult result, int maxPoints)
    {
        // The history keeps every k-th loss of a long run (and the latest): each kept loss knows its step.
        var history = result.LossHistory;
        var count = history.Count + 1;
        var stride = Math.Max(1, (count + maxPoints - 1) / maxPoints);
        var steps = new List<double>();
        var losses = new List<double>();
        for (var i = 0; i < history.Count; i += stride)
        {
            steps.Add(history.StepOf(i));
            losses.Add(history[i]);
        }
        steps.Add(result.Steps);
        losses.Add(result.FinalLoss);
        return ([.. steps], [.. losses]);
    }

    /// <summary>
    /// The plot as SVG, with its bitmaps (heatmaps: the confusion matrix, images) drawn with sharp
    /// pixels when a browser scales them, as in the PNG, rather than blurred.
    /// </summary>
    internal static string Svg(Plot plot, int width, int height)
        => plot.GetSvgXml(width, height).Replace("<image ", "<image style=\"image-rendering:pixelated\" image-rendering=\"optimizeSpeed\" ", StringComparison.Ordinal);

    internal static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(PlotFonts.Name);
        plot.Legend.FontName = PlotFonts.Name;
        return plot;
    }

    // A classifier's fit: each row's probability of its true class, in a column per class (spread
    // sideways so that rows do not hide each other), at the start faint and after training.
    private static void ClassifierFit(Plot plot, TrainingRecord record, TrainingSnapshot start, TrainingSnapshot end)
    {
        var names = record.Data.ClassNames ?? [];
        var (xs, before) = TrueClassProbabilities(record, start);
        var (_, after) = TrueClassProbabilities(record, end);
        var steps = record.Result.Steps;
        var chance = plot.Add.HorizontalLine(1.0 / Math.Max(names.Count, 1));
        chance.Color = Colors.Gray.WithAlpha(0.6);
        chance.LineWidth = 1;
        chance.LegendText = $"chance (1/{names.Count})";
        var first = plot.Add.ScatterPoints(xs, before);
        first.Color = Green.WithAlpha(0.25);
        first.MarkerSize = 5;
        first.LegendText = "start";
        var last = plot.Add.ScatterPoints(xs, after);
        last.Color = Green;
        last.MarkerSize = 6;
        last.LegendText = $"after {steps} step{(steps == 1 ? "" : "s")}";
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. Enumerable.Range(0, names.Count).Select(i => (double)i)], [.. names]);
        // Room above 1 for the legend, which would otherwise sit on the last class's best rows.
        plot.Axes.SetLimits(-0.5, names.Count - 0.5, -0.02, 1.4);
        ClassificationPictures.SlantNames(plot, names);
        plot.XLabel($"{record.Data.TargetNames[0]} (observed class)");
        plot.YLabel("probability of the true class");
        var right = after.Count(p => p > 0.5);
        plot.Title($"Probability of the true class after {steps} step{(steps == 1 ? "" : "s")}: above ½ for {right} of {after.Length} rows");
        plot.ShowLegend(Alignment.UpperRight);
    }

    /// <summary>
    /// For each probe row of a classifier: its column (the true class, spread sideways by up to ±0.3 on a
    /// fixed pattern) and the softmax probability the snapshot's outputs give its true class.
    /// </summary>
    internal static (double[] X, double[] Probability) TrueClassProbabilities(TrainingRecord record, TrainingSnapshot snapshot, int? maxRows = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(snapshot);
        var data = record.Data;
        var probeRows = record.Recorder.Probe!.Shape.Rows;
        var rows = Math.Min(probeRows, maxRows ?? probeRows);
        var outputs = snapshot.Outputs.Length / probeRows;
        var xs = new double[rows];
        var ps = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var truth = (int)data.Targets[r * data.TargetCount];
            var row = snapshot.Outputs.AsSpan(r * outputs, outputs);
            // Softmax of the true class, stably: e^(z_c − max) / Σ e^(z_j − max).
            var max = double.NegativeInfinity;
            foreach (var z in row)
            {
                max = Math.Max(max, z);
            }
            var sum = 0.0;
            foreach (var z in row)
            {
                sum += Math.Exp(z - max);
            }
            ps[r] = truth >= 0 && truth < outputs && double.IsFinite(max) ? Math.Exp(row[truth] - max) / sum : double.NaN;
            // The golden ratio's fractional parts spread a column's rows evenly, the same way every time.
            xs[r] = truth + (0.6 * (((r * 0.6180339887498949) % 1.0) - 0.5));
        }
        return (xs, ps);
    }

    private static (double[] Observed, double[] Predicted) PredictedAgainstObserved(TrainingRecord record, TrainingSnapshot snapshot)
    {
        var data = record.Data;
        var rows = record.Recorder.Probe!.Shape.Rows;
        var outputs = snapshot.Outputs.Length / rows;
        var observed = new double[rows];
        var predicted = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            observed[r] = data.Targets[r * data.TargetCount];
            var row = snapshot.Outputs.AsSpan(r * outputs, outputs);
            predicted[r] = record.IsClassification ? ConfusionMatrix.ArgMax(row) : row[0];
        }
        return (observed, Finite(predicted));
    }

    private static (double Low, double High) Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        return finite.Length == 0 ? (0, 1) : (finite.Min(), finite.Max());
    }

    // ScottPlot skips NaN; infinities (a diverged run) would wreck the axis limits.
    private static double[] Finite(double[] values) => [.. values.Select(v => double.IsFinite(v) ? v : double.NaN)];

    private static double[] Log10(double[] values) => [.. values.Select(v => v > 0 && double.IsFinite(v) ? Math.Log10(v) : double.NaN)];

    // The values are log10s: ticks at whole powers of ten, labelled with the power itself.
    private static void LogAxis(Plot plot)
    {
        var ticks = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Number(Math.Pow(10, y)),
        };
        plot.Axes.Left.TickGenerator = ticks;
    }

    private static string Number(double value) => value.ToString("G3", CultureInfo.InvariantCulture);
}
