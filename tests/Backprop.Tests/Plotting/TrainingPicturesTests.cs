using System.Globalization;
using System.Xml.Linq;
using Backprop.Plotting;
using SkiaSharp;
using static Backprop.Tests.Plotting.PlotHarness;

namespace Backprop.Tests.Plotting;

public sealed class TrainingPicturesTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static readonly string[] Files = ["fit.png", "fit.svg", "gradients.png", "gradients.svg", "loss.png", "loss.svg"];

    [Fact]
    public void Write_puts_fit_loss_and_gradients_as_png_and_svg_and_nothing_else()
    {
        using var folder = new TempFolder();
        var written = TrainingPictures.Write(folder.Path, LessonRecord().Record);

        Assert.Equal(Files, written.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Files, Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Each_png_decodes_at_the_expected_size_and_is_not_blank()
    {
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, LessonRecord().Record);
        foreach (var name in TrainingPictures.Names)
        {
            using var image = SKBitmap.Decode(folder[name + ".png"]);
            Assert.NotNull(image);
            Assert.Equal((TrainingPictures.Width, TrainingPictures.Height), (image.Width, image.Height));
            var pixels = image.Pixels;
            var inked = pixels.Count(p => p.Red < 200 || p.Green < 200 || p.Blue < 200);
            Assert.True(inked > pixels.Length / 50, $"{name}.png: only {inked} of {pixels.Length} pixels are not near white");
            Assert.True(pixels.Distinct().Count() > 20, $"{name}.png has too few colours to be a plot");
        }
    }

    [Fact]
    public void The_fit_png_shows_the_green_curve_and_its_axis_label_text()
    {
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, LessonRecord().Record);
        using var image = SKBitmap.Decode(folder["fit.png"]);

        var green = image.Pixels.Count(p => p.Green > 120 && p.Red < 80 && p.Blue < 100);
        Assert.True(green > 1000, $"only {green} green pixels");
        // The x-axis label ("Dosage") sits centred under the plot: dark pixels there mean the font rendered.
        var text = 0;
        for (var y = image.Height - 30; y < image.Height; y++)
        {
            for (var x = (image.Width / 2) - 60; x < (image.Width / 2) + 60; x++)
            {
                var p = image.GetPixel(x, y);
                text += p.Red < 120 && p.Green < 120 && p.Blue < 120 ? 1 : 0;
            }
        }
        Assert.True(text > 40, $"only {text} dark pixels where the x-axis label should be");
    }

    [Fact]
    public void Each_svg_parses_at_the_expected_size_with_its_labels_as_text()
    {
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, LessonRecord().Record);
        string[][] expected =
        [
            ["Dosage", "Efficacy", "The fit after 472 steps", "start", "data"],
            ["step", "SSR (log scale)", "stop: every step size is below 0.001"],
            ["step", "|gradient| (log scale)", "w1", "b1", "w2", "b2", "w3", "w4", "b3"],
        ];
        foreach (var (name, labels) in TrainingPictures.Names.Zip(expected))
        {
            var svg = XDocument.Load(folder[name + ".svg"]).Root!;
            Assert.Equal(Svg + "svg", svg.Name);
            Assert.Equal("800", (string?)svg.Attribute("width"));
            Assert.Equal("500", (string?)svg.Attribute("height"));
            var texts = svg.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
            foreach (var label in labels)
            {
                Assert.Contains(label, texts);
            }
        }
    }

    [Fact]
    public void The_gradient_legend_lists_the_lesson_parameters_in_the_lessons_order()
    {
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, LessonRecord().Record);
        var texts = XDocument.Load(folder["gradients.svg"]).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        var legend = texts.Where(t => CliNames.Contains(t)).ToList();
        Assert.Equal(CliNames, legend);
    }

    private static readonly string[] CliNames = ["w1", "b1", "w2", "b2", "w3", "w4", "b3"];

    [Fact]
    public void The_fitted_curve_in_the_svg_passes_through_the_data_points_after_the_lessons_run()
    {
        var (record, network) = LessonRecord();
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, record);
        var (points, curve) = ReadFit(folder["fit.svg"]);
        Assert.Equal(3, points.Count);

        // The three markers are the data (0, 0), (0.5, 1), (1, 0): they give the pixel scale of each axis.
        var (x0, x1) = (points[0].X, points[2].X);
        var (y0, y1) = (points[0].Y, points[1].Y);
        Assert.Equal(points[0].Y, points[2].Y, 3);
        Assert.Equal((x0 + x1) / 2, points[1].X, 3);
        var predictions = network.Predict(Backprop.Data.Datasets.Dosage.InputTensor<double>()).ToDoubleArray();
        double[] observed = [0, 1, 0];
        for (var i = 0; i < 3; i++)
        {
            var curveY = (At(curve, points[i].X) - y0) / (y1 - y0);
            // Drawn where the network predicts (to a pixel), and within 0.03 of the observed value.
            Assert.Equal(predictions[i], curveY, 1.0 / Math.Abs(y1 - y0));
            Assert.True(Math.Abs(curveY - observed[i]) < 0.03, $"at dosage {i * 0.5} the curve is at {curveY}, the data at {observed[i]}");
        }
        // The curve spans the input range.
        Assert.True(curve[0].X <= x0 + 0.5 && curve[^1].X >= x1 - 0.5);
    }

    [Fact]
    public void Before_training_the_curve_in_the_svg_misses_the_middle_point()
    {
        var (record, _) = LessonRecord(maxSteps: 0);
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, record);
        var (points, curve) = ReadFit(folder["fit.svg"]);
        var (y0, y1) = (points[0].Y, points[1].Y);

        // The lesson's starting curve is at about 0.85 at dosage 0.5 (and 0.69 at 0): far from the data.
        Assert.True(Math.Abs(((At(curve, points[1].X) - y0) / (y1 - y0)) - 1) > 0.1);
        Assert.True(Math.Abs((At(curve, points[0].X) - y0) / (y1 - y0)) > 0.5);
    }

    [Fact]
    public void Several_inputs_give_predicted_against_observed()
    {
        using var folder = new TempFolder();
        TrainingPictures.Write(folder.Path, TwoInputRecord());
        var texts = XDocument.Load(folder["fit.svg"]).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();

        Assert.Contains("height (observed)", texts);
        Assert.Contains("height (predicted)", texts);
        Assert.Contains("Predicted against observed after 200 steps", texts);
        using var image = SKBitmap.Decode(folder["fit.png"]);
        Assert.Equal((TrainingPictures.Width, TrainingPictures.Height), (image.Width, image.Height));
        // Larger networks get one gradient line per layer.
        var gradients = XDocument.Load(folder["gradients.svg"]).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("layer0", gradients);
        Assert.Contains("layer1", gradients);
        Assert.Contains("Gradient norm of each layer", gradients);
    }

    [Fact]
    public void Pictures_written_again_replace_the_old_ones_whole()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["fit.png"], "an old picture");
        TrainingPictures.Write(folder.Path, LessonRecord().Record);

        using var image = SKBitmap.Decode(folder["fit.png"]);
        Assert.NotNull(image);
        Assert.Equal(Files, Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_folder_that_is_a_file_is_refused_by_name()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["plots"], "not a folder");
        var e = Assert.Throws<BackpropException>(() => TrainingPictures.CheckFolder(folder["plots"]));
        Assert.Equal($"--plot needs a folder, but '{folder["plots"]}' is a file.", e.Message);
        Assert.Equal("not a folder", File.ReadAllText(folder["plots"]));
    }

    [Fact]
    public void A_folder_that_cannot_be_created_is_refused_by_name()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["file"], "");
        var inside = Path.Combine(folder["file"], "plots");
        var e = Assert.Throws<BackpropException>(() => TrainingPictures.CheckFolder(inside));
        Assert.StartsWith($"--plot cannot write into the folder '{inside}': ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unwritable_folder_is_refused_by_name()
    {
        // /proc refuses new files even to root, who ignores permission bits.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var e = Assert.Throws<BackpropException>(() => TrainingPictures.CheckFolder("/proc/backprop-plots"));
        Assert.StartsWith("--plot cannot write into the folder '/proc/backprop-plots': ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The data markers (centres) and the points of the fitted curve (the thick green path) of fit.svg, in pixels.</summary>
    internal static (List<(double X, double Y)> Points, List<(double X, double Y)> Curve) ReadFit(string path)
    {
        var svg = XDocument.Load(path).Root!;
        // Each plottable is drawn in a group clipped to the data area (the first clip rectangle); the
        // legend, with its own marker and line, is clipped to another rectangle.
        var clips = svg.Descendants(Svg + "clipPath").ToDictionary(c => $"url(#{(string)c.Attribute("id")!})", c => c.Element(Svg + "rect")!.ToString());
        var dataArea = clips.Values.First();
        var plotArea = svg.Descendants(Svg + "g").Where(g => (string?)g.Attribute("clip-path") is { } clip && clips[clip] == dataArea).ToList();
        var points = plotArea.SelectMany(g => g.Descendants(Svg + "ellipse"))
            .Select(e => (X: D(e, "cx"), Y: D(e, "cy"))).OrderBy(p => p.X).ToList();
        var green = plotArea.SelectMany(g => g.Descendants(Svg + "path"))
            .Where(p => string.Equals((string?)p.Attribute("stroke"), "#1A9641", StringComparison.OrdinalIgnoreCase))
            .Select(p => (string)p.Attribute("d")!).MaxBy(d => d.Length)!;
        var curve = green.Split(['M', 'L'], StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Trim().Split(' '))
            .Select(xy => (X: double.Parse(xy[0], CultureInfo.InvariantCulture), Y: double.Parse(xy[1], CultureInfo.InvariantCulture)))
            .ToList();
        return (points, curve);
    }

    /// <summary>The curve's y at pixel x, by linear interpolation.</summary>
    internal static double At(List<(double X, double Y)> curve, double x)
    {
        for (var i = 1; i < curve.Count; i++)
        {
            if (curve[i].X >= x - 1e-6)
            {
                var (a, b) = (curve[i - 1], curve[i]);
                return b.X == a.X ? b.Y : a.Y + ((b.Y - a.Y) * (x - a.X) / (b.X - a.X));
            }
        }
        throw new InvalidOperationException($"the curve does not reach x = {x}");
    }

    private static double D(XElement e, string name) => double.Parse((string)e.Attribute(name)!, CultureInfo.InvariantCulture);
}
