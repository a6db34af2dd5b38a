using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Plotting;

/// <summary>
/// The training report: one self-contained HTML page (inline SVG and script, nothing fetched) with
/// the fit at each recorded step, a slider and a play button, the loss curve with a marker that
/// follows the slider, the gradient norms with a line at the slider's step, a classifier's learning
/// curves, confusion matrix and worst mistakes, the parameter table at the slider's step (start, current, final) and the
/// network, data, settings and stop reason.
/// </summary>
public static class TrainingReportPage
{
    /// <summary>The most data rows drawn in a predicted-against-observed fit.</summary>
    public const int MaxPointRows = 300;

    /// <summary>The most parameters shown in the table.</summary>
    public const int MaxTableRows = 40;

    private const int Width = 640, Height = 380, Left = 72, Right = 16, Top = 16, Bottom = 48;

    /// <summary>Checks that <paramref name="path"/> can receive the report, so that a long run does not end in an error.</summary>
    /// <exception cref="BackpropException">The path is a folder, its folder does not exist, or it cannot be written.</exception>
    public static void CheckFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path))
        {
            throw new BackpropException($"--report needs a file name, but '{path}' is a folder.");
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            throw new BackpropException($"--report cannot write '{path}': the folder '{folder}' does not exist.");
        }
        try
        {
            using (File.Create(Path.Combine(folder, $".backprop-write-check-{Guid.NewGuid():N}"), 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"--report cannot write into the folder '{folder}': {e.Message}");
        }
    }

    /// <summary>Writes the report to <paramref name="path"/>, whole or not at all.</summary>
    public static void Write(string path, TrainingRecord record)
    {
        using var files = new AtomicFileSet();
        Stage(files, path, record);
        files.Commit();
    }

    /// <summary>Renders the report and stages it in <paramref name="files"/>, to replace <paramref name="path"/> when they are committed.</summary>
    public static void Stage(AtomicFileSet files, string path, TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(files);
        CheckFile(path);
        var html = System.Text.Encoding.UTF8.GetBytes(Render(record));
        files.Stage(path, "report", s => s.Write(html));
    }

    /// <summary>The report's HTML.</summary>
    public static string Render(TrainingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var result = record.Result;
        var recorder = record.Recorder;
        var snapshots = recorder.Snapshots;
        var data = record.Data;
        var html = new StringBuilder();
        var steps = result.Steps;
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Backprop: {E(record.Network)} on {E(data.Name)}</title>
            <style>{Style}</style>
            </head>
            <body>
            <h1>Training report</h1>
            <p class="lead">{E(record.Network)} on {E(data.Name)} ({data.Count} rows): {E(record.LossName)} {N(result.InitialLoss)} → {N(result.FinalLoss)} in {steps} step{(steps == 1 ? "" : "s")}.</p>
            <div class="controls">
            <button id="play" type="button">▶ Play</button>
            <input id="slider" type="range" min="0" max="{snapshots.Count - 1}" value="{snapshots.Count - 1}" step="1" aria-label="recorded step">
            <span id="step-label"></span>
            </div>
            <div class="row">
            <figure><figcaption>{(record.IsCurve ? "The fit" : record.IsClassification ? "Probability of the true class" : "Predicted against observed")}</figcaption>

            """);
        var frames = record.IsCurve ? CurveFigure(html, record) : record.IsClassification ? ClassifierPointsFigure(html, record) : PointsFigure(html, record);
        html.Append("</figure>\n<figure><figcaption>Loss</figcaption>\n");
        var marks = LossFigure(html, record);
        html.Append("</figure>\n<figure><figcaption>Gradients</figcaption>\n");
        var gradientMarks = GradientFigure(html, record);
        html.Append("</figure>\n</div>\n");
        if (record.Classification is { } classification)
        {
            ClassificationFigures(html, classification);
        }
        else if (record.HasEpochCurves)
        {
            var svg = Convert.ToBase64String(Encoding.UTF8.GetBytes(TrainingPictures.Svg(ClassificationPictures.Losses(record.Epochs), TrainingPictures.Width, TrainingPictures.Height)));
            html.Append(CultureInfo.InvariantCulture, $"<h2>Learning curves</h2>\n<div class=\"row\">\n<figure id=\"epochs-figure\"><figcaption>Loss per epoch</figcaption><img class=\"chart\" src=\"data:image/svg+xml;base64,{svg}\" width=\"{TrainingPictures.Width}\" height=\"{TrainingPictures.Height}\" alt=\"Loss per epoch\"></figure>\n</div>\n");
        }
        html.Append("<div class=\"row\">\n<section><h2>Parameters</h2>\n");
        ParameterTable(html, record);
        html.Append("</section>\n<section><h2>The run</h2>\n<dl>\n");
        Item(html, "network", record.Network);
        Item(html, "data", $"{data.Name}: {data.Count} rows; inputs {string.Join(", ", data.InputNames)}; target {string.Join(", ", data.TargetNames)}");
        Item(html, "loss", record.LossName);
        foreach (var (name, value) in record.Settings)
        {
            Item(html, name, value);
        }
        Item(html, "stopped", $"after {steps} step{(steps == 1 ? "" : "s")}: {result.StopMessage}");
        Item(html, "snapshots", $"{snapshots.Count}, every {recorder.Interval} step{(recorder.Interval == 1 ? "" : "s")} (and the last)");
        html.Append("</dl>\n</section>\n</div>\n");

        var model = new
        {
            steps = snapshots.Select(s => s.Step),
            frames,
            markers = marks,
            gradientMarkers = gradientMarks,
            values = snapshots.Select(s => record.ValueOrder.Take(MaxTableRows).Select(i => Short(s.Values[i]))),
        };
        // System.Text.Json escapes <, > and & by default, so the data cannot close the script element.
        html.Append("<script type=\"application/json\" id=\"report-data\">").Append(JsonSerializer.Serialize(model)).Append("</script>\n");
        html.Append("<script>").Append(Script).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    // The curve of each snapshot as SVG path data; the data points and the starting curve drawn once.
    private static string[] CurveFigure(StringBuilder html, TrainingRecord record)
    {
        var data = record.Data;
        var xs = record.Recorder.Probe!.ToDoubleArray();
        var snapshots = record.Recorder.Snapshots;
        var ys = data.Targets.ToArray().Concat(snapshots[0].Outputs).Concat(snapshots[^1].Outputs);
        var frame = new Frame(Bounds(xs), Bounds(ys));
        Axes(html, frame, data.InputNames[0], data.TargetNames[0], log: false);
        var frames = snapshots.Select(s => PathData(frame, xs, s.Outputs)).ToArray();
        html.Append(CultureInfo.InvariantCulture, $"""<g clip-path="url(#fit-clip)"><path id="start-curve" d="{frames[0]}" fill="none" stroke="#1a9641" stroke-opacity="0.3" stroke-width="2" stroke-dasharray="6 4"/>""");
        html.Append(CultureInfo.InvariantCulture, $"""<path id="curve" d="{frames[^1]}" fill="none" stroke="#1a9641" stroke-width="3"/></g>""").Append('\n');
        for (var i = 0; i < data.Count; i++)
        {
            html.Append(CultureInfo.InvariantCulture, $"""<circle class="datum" cx="{frame.X(data.Inputs[i]):0.#}" cy="{frame.Y(data.Targets[i]):0.#}" r="5"/>""");
        }
        html.Append("</svg>\n").Append(Legend(("data", "datum"), ("start", "start"), ("fit at the slider's step", "fit")));
        return frames;
    }

    // A classifier: each row's probability of its true class (y) in its class's column (x); each frame lists the circles' y positions.
    private static string[] ClassifierPointsFigure(StringBuilder html, TrainingRecord record)
    {
        var names = record.Data.ClassNames ?? [];
        var snapshots = record.Recorder.Snapshots;
        var xs = TrainingPictures.TrueClassProbabilities(record, snapshots[^1], MaxPointRows).X;
        var frame = new Frame((-0.5, names.Count - 0.5), (0, 1));
        Axes(html, frame, $"{record.Data.TargetNames[0]} (observed class)", "probability of the true class", log: false, xNames: names);
        var chance = frame.Y(1.0 / Math.Max(names.Count, 1));
        html.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{chance:0.#}" x2="{Width - Right}" y2="{chance:0.#}" stroke="#888" stroke-dasharray="2 3"><title>chance (1/{names.Count})</title></line>""");
        var frames = snapshots.Select(s => string.Join(' ', TrainingPictures.TrueClassProbabilities(record, s, MaxPointRows).Probability.Select(p => double.IsFinite(p) ? frame.Y(p).ToString("0.#", CultureInfo.InvariantCulture) : "-1000"))).ToArray();
        var last = frames[^1].Split(' ');
        html.Append("<g id=\"points\" clip-path=\"url(#fit-clip)\">");
        for (var r = 0; r < xs.Length; r++)
        {
            html.Append(CultureInfo.InvariantCulture, $"""<circle class="point" cx="{frame.X(xs[r]):0.#}" cy="{last[r]}" r="4"/>""");
        }
        html.Append("</g>\n</svg>\n");
        return frames;
    }

    // Predicted (y) against observed (x), one circle per row; each frame lists the circles' y positions.
    private static string[] PointsFigure(StringBuilder html, TrainingRecord record)
    {
        var data = record.Data;
        var snapshots = record.Recorder.Snapshots;
        var rows = Math.Min(record.Recorder.Probe!.Shape.Rows, MaxPointRows);
        var observed = Enumerable.Range(0, rows).Select(r => data.Targets[r * data.TargetCount]).ToArray();
        double[] Predicted(TrainingSnapshot s)
        {
            var outputs = s.Outputs.Length / record.Recorder.Probe!.Shape.Rows;
            return [.. Enumerable.Range(0, rows).Select(r => record.IsClassification ? ConfusionMatrix.ArgMax<double>(s.Outputs.AsSpan(r * outputs, outputs)) : s.Outputs[r * outputs])];
        }
        var frame = new Frame(Bounds(observed), Bounds(observed.Concat(Predicted(snapshots[^1]))));
        var target = data.TargetNames[0];
        Axes(html, frame, $"{target} (observed)", record.IsClassification ? $"{target} (predicted class)" : $"{target} (predicted)", log: false);
        var (low, high) = (Math.Max(frame.XRange.Low, frame.YRange.Low), Math.Min(frame.XRange.High, frame.YRange.High));
        html.Append(CultureInfo.InvariantCulture, $"""<line x1="{frame.X(low):0.#}" y1="{frame.Y(low):0.#}" x2="{frame.X(high):0.#}" y2="{frame.Y(high):0.#}" stroke="#888" stroke-dasharray="2 3"/>""");
        var frames = snapshots.Select(s => string.Join(' ', Predicted(s).Select(p => double.IsFinite(p) ? Math.Clamp(frame.Y(p), -1000, 1000).ToString("0.#", CultureInfo.InvariantCulture) : "-1000"))).ToArray();
        var last = frames[^1].Split(' ');
        html.Append("<g id=\"points\" clip-path=\"url(#fit-clip)\">");
        for (var r = 0; r < rows; r++)
        {
            html.Append(CultureInfo.InvariantCulture, $"""<circle class="point" cx="{frame.X(observed[r]):0.#}" cy="{last[r]}" r="4"/>""");
        }
        html.Append("</g>\n</svg>\n");
        return frames;
    }

    // The loss against step (log scale), drawn once; returns the marker's position at each snapshot.
    private static string[] LossFigure(StringBuilder html, TrainingRecord record)
    {
        var result = record.Result;
        var (steps, losses) = TrainingPictures.LossCurve(result, maxPoints: 1500);
        var logs = losses.Select(l => l > 0 && double.IsFinite(l) ? Math.Log10(l) : double.NaN).ToArray();
        var frame = new Frame(Bounds(steps), Bounds(logs));
        Axes(html, frame, "step", $"{record.LossName} (log scale)", log: true);
        html.Append(CultureInfo.InvariantCulture, $"""<path id="loss-curve" d="{PathData(frame, steps, logs)}" fill="none" stroke="#1f77b4" stroke-width="2"/>""");
        html.Append(CultureInfo.InvariantCulture, $"""<line id="stop-line" x1="{frame.X(result.Steps):0.#}" y1="{Top}" x2="{frame.X(result.Steps):0.#}" y2="{Height - Bottom}" stroke="#d62728" stroke-dasharray="5 4"><title>stop: {E(result.StopMessage)}</title></line>""");
        var marks = record.Recorder.Snapshots.Select(s =>
        {
            var y = s.Loss > 0 && double.IsFinite(s.Loss) ? frame.Y(Math.Log10(s.Loss)) : Height - Bottom;
            return string.Create(CultureInfo.InvariantCulture, $"{frame.X(s.Step):0.#} {Math.Clamp(y, Top, Height - Bottom):0.#}");
        }).ToArray();
        var lastMark = marks[^1].Split(' ');
        html.Append(CultureInfo.InvariantCulture, $"""<circle id="loss-marker" cx="{lastMark[0]}" cy="{lastMark[1]}" r="6"/>""");
        html.Append("</svg>\n").Append(Legend((record.LossName, "loss"), ("loss at the slider's step", "marker"), ("stop: " + result.StopMessage, "stop")));
        return marks;
    }

    // The gradient norm of each group (each number for small networks, each layer otherwise) at every
    // snapshot, log scale, one colour each; returns the x of the line marking each snapshot's step.
    private static string[] GradientFigure(StringBuilder html, TrainingRecord record)
    {
        var recorder = record.Recorder;
        var snapshots = recorder.Snapshots.Where(s => s.GradientNorms.Length > 0).ToArray();
        var steps = snapshots.Select(s => (double)s.Step).ToArray();
        var order = record.GradientOrder;
        static double Log(double v) => v > 0 && double.IsFinite(v) ? Math.Log10(v) : double.NaN;
        var all = snapshots.SelectMany(s => s.GradientNorms.Select(Log));
        var frame = new Frame(Bounds(steps.Append(0).Append(record.Result.Steps)), Bounds(all));
        Axes(html, frame, "step", "gradient norm (log scale)", log: true, clip: "gradients");
        html.Append("<g clip-path=\"url(#gradients-clip)\">");
        var legend = new StringBuilder("<div class=\"legend\">");
        for (var i = 0; i < order.Count; i++)
        {
            var g = order[i];
            var colour = SeriesColors.Hex(i, order.Count);
            var ys = snapshots.Select(s => Log(s.GradientNorms[g])).ToArray();
            var name = E(recorder.GradientGroups[g]);
            html.Append(CultureInfo.InvariantCulture, $"<path class=\"gradient\" d=\"{PathData(frame, steps, ys)}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{name}</title></path>");
            legend.Append(CultureInfo.InvariantCulture, $"<span><svg width=\"26\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" x2=\"25\" y2=\"5\" stroke=\"{colour}\"/></svg>{name}</span>");
        }
        var marks = recorder.Snapshots.Select(s => frame.X(s.Step).ToString("0.#", CultureInfo.InvariantCulture)).ToArray();
        html.Append(CultureInfo.InvariantCulture, $"</g><line id=\"gradient-marker\" x1=\"{marks[^1]}\" y1=\"{Top}\" x2=\"{marks[^1]}\" y2=\"{Height - Bottom}\" stroke=\"#444\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>");
        html.Append("</svg>\n").Append(legend);
        html.Append("<span class=\"legend-marker-line\"><svg width=\"26\" height=\"10\" aria-hidden=\"true\"><line x1=\"13\" y1=\"0\" x2=\"13\" y2=\"10\"/></svg>the slider's step</span></div>\n");
        return marks;
    }

    // A classifier's pictures (ClassificationPictures), each an SVG image in the page: learning
    // curves, the confusion matrix and, for image data, the worst mistakes.
    private static void ClassificationFigures(StringBuilder html, ClassificationRecord classification)
    {
        html.Append("<h2>Classification</h2>\n<div class=\"row\">\n");
        var names = ClassificationPictures.NamesFor(classification);
        string[] captions = ["Loss per epoch", "Accuracy per epoch", $"Confusion matrix ({classification.ScoredOn} data)", $"Misclassified most confidently ({classification.ScoredOn} data)"];
        foreach (var (i, plot) in ClassificationPictures.Draw(classification).Index())
        {
            var (width, height) = names[i] == "misclassified" ? ClassificationPictures.GridSize(classification) : (TrainingPictures.Width, TrainingPictures.Height);
            var svg = Convert.ToBase64String(Encoding.UTF8.GetBytes(TrainingPictures.Svg(plot, width, height)));
            html.Append(CultureInfo.InvariantCulture, $"<figure id=\"{names[i]}-figure\"><figcaption>{E(captions[i])}</figcaption><img class=\"chart\" src=\"data:image/svg+xml;base64,{svg}\" width=\"{width}\" height=\"{height}\" alt=\"{E(captions[i])}\"></figure>\n");
        }
        html.Append("</div>\n");
    }

    private static void ParameterTable(StringBuilder html, TrainingRecord record)
    {
        var snapshots = record.Recorder.Snapshots;
        var names = record.Recorder.ValueNames;
        var order = record.ValueOrder;
        html.Append("<table id=\"parameters\">\n<thead><tr><th>parameter</th><th>start</th><th id=\"current-heading\">current</th><th>final</th></tr></thead>\n<tbody>\n");
        foreach (var i in order.Take(MaxTableRows))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(names[i])}</td><td>{N(snapshots[0].Values[i])}</td><td class=\"current\">{N(snapshots[^1].Values[i])}</td><td>{N(snapshots[^1].Values[i])}</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
        var total = record.Recorder.ValueNames.Count;
        if (total > MaxTableRows)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">The first {MaxTableRows} of the recorded parameters.</p>\n");
        }
    }

    private static void Axes(StringBuilder html, Frame frame, string xLabel, string yLabel, bool log, string? clip = null, IReadOnlyList<string>? xNames = null)
    {
        html.Append(CultureInfo.InvariantCulture, $"""<svg class="chart" viewBox="0 0 {Width} {Height}" width="{Width}" height="{Height}" xmlns="http://www.w3.org/2000/svg" role="img">""");
        html.Append(CultureInfo.InvariantCulture, $"""<defs><clipPath id="{clip ?? (log ? "loss" : "fit")}-clip"><rect x="{Left}" y="{Top}" width="{Width - Left - Right}" height="{Height - Top - Bottom}"/></clipPath></defs>""");
        html.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{Top}" width="{Width - Left - Right}" height="{Height - Top - Bottom}" class="plot-area"/>""");
        // Named columns (a classifier's classes) at 0, 1, …; else numbers.
        foreach (var t in xNames is null ? Ticks(frame.XRange, integersOnly: false) : Enumerable.Range(0, xNames.Count).Select(i => (double)i))
        {
            var x = frame.X(t);
            var text = xNames is null ? N(t) : E(xNames[(int)t]);
            // More than six names take two staggered rows, so that long ones (Fashion-MNIST's) do not run into each other.
            var below = xNames is { Count: > 6 } && (int)t % 2 == 1 ? 28 : 16;
            html.Append(CultureInfo.InvariantCulture, $"""<line x1="{x:0.#}" y1="{Top}" x2="{x:0.#}" y2="{Height - Bottom}" class="grid"/><text x="{x:0.#}" y="{Height - Bottom + below}" text-anchor="middle">{text}</text>""");
        }
        foreach (var t in Ticks(frame.YRange, integersOnly: log))
        {
            var y = frame.Y(t);
            html.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{y:0.#}" x2="{Width - Right}" y2="{y:0.#}" class="grid"/><text x="{Left - 6}" y="{y + 4:0.#}" text-anchor="end">{N(log ? Math.Pow(10, t) : t)}</text>""");
        }
        html.Append(CultureInfo.InvariantCulture, $"""<text x="{(Left + Width - Right) / 2}" y="{Height - 8}" text-anchor="middle" class="label">{E(xLabel)}</text>""");
        html.Append(CultureInfo.InvariantCulture, $"""<text transform="translate(14 {(Top + Height - Bottom) / 2}) rotate(-90)" text-anchor="middle" class="label">{E(yLabel)}</text>""").Append('\n');
    }

    // Below the figure, so that it never hides a curve.
    private static string Legend(params (string Text, string Kind)[] entries)
    {
        var legend = new StringBuilder("<div class=\"legend\">");
        foreach (var (text, kind) in entries)
        {
            var swatch = kind is "datum" or "marker" ? """<circle cx="13" cy="5" r="4"/>""" : """<line x1="1" y1="5" x2="25" y2="5"/>""";
            legend.Append(CultureInfo.InvariantCulture, $"""<span class="legend-{kind}"><svg width="26" height="10" aria-hidden="true">{swatch}</svg>{E(text)}</span>""");
        }
        return legend.Append("</div>\n").ToString();
    }

    private static string PathData(Frame frame, double[] xs, double[] ys)
    {
        var d = new StringBuilder();
        var pen = 'M';
        for (var i = 0; i < xs.Length && i < ys.Length; i++)
        {
            if (!double.IsFinite(ys[i]))
            {
                pen = 'M';
                continue;
            }
            // Far-off points are clamped so a wild early curve still draws (clipped to the plot area).
            d.Append(CultureInfo.InvariantCulture, $"{pen}{frame.X(xs[i]):0.#} {Math.Clamp(frame.Y(ys[i]), -1000, 1000):0.#}");
            pen = 'L';
        }
        return d.ToString();
    }

    private static IEnumerable<double> Ticks((double Low, double High) range, bool integersOnly)
    {
        var span = range.High - range.Low;
        var raw = span / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1.0, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        if (integersOnly)
        {
            step = Math.Max(1, Math.Ceiling(step));
        }
        for (var t = Math.Ceiling(range.Low / step) * step; t <= range.High + (step * 1e-9); t += step)
        {
            yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
        }
    }

    private static (double Low, double High) Bounds(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        var (low, high) = finite.Length == 0 ? (0.0, 1.0) : (finite.Min(), finite.Max());
        if (!(high > low))
        {
            (low, high) = (low - 0.5, high + 0.5);
        }
        var pad = (high - low) * 0.06;
        return (low - pad, high + pad);
    }

    private static void Item(StringBuilder html, string name, string value)
        => html.Append(CultureInfo.InvariantCulture, $"<dt>{E(name)}</dt><dd>{E(value)}</dd>\n");

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string N(double value) => NumberText.Short(value);

    private static string Short(double value) => NumberText.Short(value);

    /// <summary>Maps data coordinates to the plot area's pixels.</summary>
    private sealed record Frame((double Low, double High) XRange, (double Low, double High) YRange)
    {
        public double X(double x) => Left + ((x - XRange.Low) / (XRange.High - XRange.Low) * (Width - Left - Right));

        public double Y(double y) => Height - Bottom - ((y - YRange.Low) / (YRange.High - YRange.Low) * (Height - Top - Bottom));
    }

    private const string Style = """
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px; color: #222; }
        h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.1em; }
        .lead { margin: 0 0 12px; }
        .controls { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
        #slider { width: 480px; } #step-label { font-variant-numeric: tabular-nums; min-width: 14em; }
        .row { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 24px; }
        figure { margin: 0; flex: 1 1 420px; min-width: 0; } figcaption { font-weight: bold; margin-bottom: 4px; }
        .chart { width: 100%; height: auto; display: block; }
        #misclassified-figure { grid-column: 1 / -1; max-width: 900px; }
        section { flex: 1 1 420px; min-width: 0; }
        svg text { font-size: 12px; fill: #333; } svg .label { font-size: 13px; }
        .plot-area { fill: #fff; stroke: #999; } .grid { stroke: #eee; }
        .datum { fill: #111; } .point { fill: #1a9641; fill-opacity: 0.7; }
        #loss-marker { fill: #ff7f0e; stroke: #fff; stroke-width: 2; }
        .legend { display: flex; gap: 18px; font-size: 13px; margin-top: 2px; } .legend svg { vertical-align: middle; margin-right: 4px; }
        .legend line { stroke-width: 3; } .legend-datum circle { fill: #111; } .legend-marker circle { fill: #ff7f0e; } .legend-start line { stroke: #1a9641; stroke-opacity: 0.3; stroke-dasharray: 6 4; }
        .legend { flex-wrap: wrap; } .legend-marker-line line { stroke: #444; stroke-width: 2; stroke-dasharray: 4 2; }
        .legend-fit line { stroke: #1a9641; } .legend-loss line { stroke: #1f77b4; } .legend-stop line { stroke: #d62728; stroke-dasharray: 5 4; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; } th, td { padding: 3px 12px; border-bottom: 1px solid #ddd; text-align: right; }
        th:first-child, td:first-child { text-align: left; } td.current { background: #f1f8f3; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; } dt { font-weight: bold; } dd { margin: 0; }
        .note { color: #666; }
        """;

    private const string Script = """
        (function () {
          "use strict";
          var report = JSON.parse(document.getElementById("report-data").textContent);
          var slider = document.getElementById("slider");
          var play = document.getElementById("play");
          var label = document.getElementById("step-label");
          var curve = document.getElementById("curve");
          var points = document.getElementById("points");
          var marker = document.getElementById("loss-marker");
          var gradientMarker = document.getElementById("gradient-marker");
          var cells = document.querySelectorAll("#parameters td.current");
          var timer = null;
          function show(i) {
            var frame = report.frames[i];
            if (curve) { curve.setAttribute("d", frame); }
            if (points) {
              var ys = frame.split(" ");
              var circles = points.querySelectorAll("circle");
              for (var p = 0; p < circles.length; p++) { circles[p].setAttribute("cy", ys[p]); }
            }
            var mark = report.markers[i].split(" ");
            marker.setAttribute("cx", mark[0]);
            marker.setAttribute("cy", mark[1]);
            gradientMarker.setAttribute("x1", report.gradientMarkers[i]);
            gradientMarker.setAttribute("x2", report.gradientMarkers[i]);
            var values = report.values[i];
            for (var c = 0; c < cells.length; c++) { cells[c].textContent = values[c]; }
            var last = report.steps.length - 1;
            label.textContent = "step " + report.steps[i] + " of " + report.steps[last] + (i === last ? " (final)" : "");
          }
          function stop() {
            if (timer !== null) { clearInterval(timer); timer = null; }
            play.textContent = "\u25B6 Play";
          }
          slider.addEventListener("input", function () { show(Number(slider.value)); });
          play.addEventListener("click", function () {
            if (timer !== null) { stop(); return; }
            if (Number(slider.value) >= Number(slider.max)) { slider.value = 0; show(0); }
            play.textContent = "\u275A\u275A Pause";
            var delay = Math.max(20, Math.min(120, 6000 / report.steps.length));
            timer = setInterval(function () {
              var next = Number(slider.value) + 1;
              if (next > Number(slider.max)) { stop(); return; }
              slider.value = next;
              show(next);
            }, delay);
          });
          show(Number(slider.value));
        })();
        """;
}
