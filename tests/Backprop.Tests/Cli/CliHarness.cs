using System.Globalization;
using System.Text.Json;
using Backprop.Cli;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Tests.Cli;

/// <summary>What one run of the command wrote and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// The progress lines a command run as a child process may write on stderr (its stdout is a pipe):
/// after 5 seconds of training, which a loaded machine can reach in any run.
/// </summary>
internal static partial class ProgressLines
{
    /// <summary>"step …", "epoch k/N, step …" or "trained N steps; scoring the rows, …".</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^((epoch \d+(/\d+)?, )?step \d+(/\d+ \(\d+%\))?: loss |trained \d+ steps; scoring the rows, )")]
    public static partial System.Text.RegularExpressions.Regex Pattern();

    /// <summary><paramref name="stderr"/>'s lines that are not progress lines.</summary>
    public static string[] Without(string stderr)
        => [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !Pattern().IsMatch(l))];
}

/// <summary>The one JSON object of <c>backprop --json</c>, read key by key.</summary>
internal sealed record JsonReport(
    string Text,
    int Steps,
    string StopReason,
    double InitialLoss,
    double Loss,
    IReadOnlyList<KeyValuePair<string, double>> Parameters,
    IReadOnlyList<double> Predictions)
{
    public IReadOnlyList<string> Names => [.. Parameters.Select(p => p.Key)];

    /// <summary>The text with each epoch's wall-clock <c>seconds</c> blanked: what two runs of the same numbers share.</summary>
    public string WithoutTimes => System.Text.RegularExpressions.Regex.Replace(Text, @"""seconds"": [^,\r\n}]+", "\"seconds\": _");

    public double this[string name] => Parameters.Single(p => p.Key == name).Value;
}

/// <summary>Runs <c>backprop</c> in-process and trains the same networks through the library for comparison.</summary>
internal static class CliHarness
{
    public static readonly string[] LessonNames = ["w1", "b1", "w2", "b2", "w3", "w4", "b3"];

    public static readonly string[] ReportKeys = ["steps", "stopReason", "initialLoss", "loss", "parameters", "predictions", "epochs", "metrics", "summary"];

    public static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        var code = BackpropCli.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs with <c>--json</c> added; the run must succeed, write nothing on stderr and exactly one JSON object on stdout.</summary>
    public static JsonReport RunJson(params string[] args)
    {
        var result = Run([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Equal("", result.Stderr);
        return ParseReport(result.Stdout);
    }

    public static JsonReport ParseReport(string stdout)
    {
        // JsonDocument refuses anything after the first value, so this also proves stdout holds nothing else.
        using var document = JsonDocument.Parse(stdout);
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(ReportKeys, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, root.GetProperty("steps").ValueKind);
        Assert.Equal(JsonValueKind.String, root.GetProperty("stopReason").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("initialLoss").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("loss").ValueKind);
        Assert.Equal(JsonValueKind.Object, root.GetProperty("parameters").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("predictions").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("epochs").ValueKind);
        return new JsonReport(
            stdout,
            root.GetProperty("steps").GetInt32(),
            root.GetProperty("stopReason").GetString()!,
            root.GetProperty("initialLoss").GetDouble(),
            root.GetProperty("loss").GetDouble(),
            [.. root.GetProperty("parameters").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetDouble()))],
            [.. root.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble())]);
    }

    /// <summary>Asserts a bad-input failure: exit code 2, nothing on stdout, one "backprop:" line on stderr, no stack trace.</summary>
    public static string AssertBadInput(CliResult result)
    {
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
        Assert.Equal(2, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines).TrimEnd('\r');
        Assert.StartsWith("backprop: ", line, StringComparison.Ordinal);
        return line;
    }

    /// <summary>Trains <paramref name="network"/> through the library as the command does: returns the result and the predictions.</summary>
    public static (TrainingResult Result, double[] Predictions) Fit(
        Sequential<double> network, Loss loss, Optimizer<double> optimizer, TrainingOptions options, Dataset? data = null)
    {
        data ??= Datasets.Dosage;
        var result = new Trainer<double>(network, loss, optimizer).Fit(data.InputTensor<double>(), data.TargetTensor<double>(), options);
        return (result, network.Predict(data.InputTensor<double>()).ToDoubleArray());
    }

    /// <summary>Gradient descent with the lesson's loss and stopping rules unless told otherwise.</summary>
    public static (TrainingResult Result, double[] Predictions) FitLike(
        Sequential<double> network, string optimizer = "gd", double lr = Lesson.LearningRate, Loss? loss = null,
        TrainingOptions? options = null, Dataset? data = null)
        => Fit(network, loss ?? new SumSquaredResiduals(), Optimizer<double>.Create(optimizer, network.Parameters(), lr), options ?? new TrainingOptions(), data);

    /// <summary>The lesson's 1-2-1 network with the given hidden activation and its names, before any starting values are set.</summary>
    public static Sequential<double> LessonShaped(Activation? hidden = null)
    {
        var network = Sequential<double>.Mlp(Lesson.LayerSizes, hidden ?? Activation.SoftPlus, Activation.Identity);
        Lesson.Name(network);
        return network;
    }

    /// <summary>Asserts the report holds exactly the library's numbers, bit for bit.</summary>
    public static void AssertSameAsLibrary(JsonReport report, Sequential<double> network, TrainingResult result, double[] predictions)
    {
        Assert.Equal(result.Steps, report.Steps);
        Assert.Equal(JsonNamingPolicy.CamelCase.ConvertName(result.StopReason.ToString()), report.StopReason);
        AssertBits(result.InitialLoss, report.InitialLoss);
        AssertBits(result.FinalLoss, report.Loss);
        var elements = network.Elements().ToList();
        Assert.Equal(elements.Count, report.Parameters.Count);
        Assert.Equal(elements.Select(e => e.Name).Order(StringComparer.Ordinal), report.Names.Order(StringComparer.Ordinal));
        foreach (var e in elements)
        {
            AssertBits(e.Value, report[e.Name]);
        }
        Assert.Equal(predictions.Length, report.Predictions.Count);
        for (var i = 0; i < predictions.Length; i++)
        {
            AssertBits(predictions[i], report.Predictions[i]);
        }
    }

    public static void AssertBits(double expected, double actual)
        => Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"expected {expected:R}, got {actual:R}");

    /// <summary>The lesson's SSR on the dosage data, by plain double arithmetic: no library code.</summary>
    public static double Ssr(IReadOnlyDictionary<string, double> p, Func<double, double> activation)
    {
        double[] dosage = [0.0, 0.5, 1.0];
        double[] efficacy = [0.0, 1.0, 0.0];
        var ssr = 0.0;
        for (var i = 0; i < 3; i++)
        {
            var y1 = activation((dosage[i] * p["w1"]) + p["b1"]);
            var y2 = activation((dosage[i] * p["w2"]) + p["b2"]);
            var predicted = (y1 * p["w3"]) + (y2 * p["w4"]) + p["b3"];
            ssr += (efficacy[i] - predicted) * (efficacy[i] - predicted);
        }
        return ssr;
    }

    public static double SoftPlus(double x) => Math.Log(1 + Math.Exp(x));

    /// <summary>The lesson's starting values, typed out from the lesson (not read from the library).</summary>
    public static Dictionary<string, double> LessonStart() => new()
    {
        ["w1"] = 2.74,
        ["b1"] = 0,
        ["w2"] = -1.13,
        ["b2"] = 0,
        ["w3"] = 0.36,
        ["w4"] = 0.63,
        ["b3"] = 0,
    };

    /// <summary>Stage 1's values: the six fixed ones already optimised, b3 from 0.</summary>
    public static Dictionary<string, double> Stage1Start() => new()
    {
        ["w1"] = 3.34,
        ["b1"] = -1.43,
        ["w2"] = -3.53,
        ["b2"] = 0.57,
        ["w3"] = -1.22,
        ["w4"] = -2.30,
        ["b3"] = 0,
    };

    /// <summary>How the text report prints a number.</summary>
    public static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>The cells of every table row in the text report (split on the table's vertical borders).</summary>
    public static List<string[]> TableRows(string text)
        => [.. text.Split('\n')
            .Where(line => line.Contains('│', StringComparison.Ordinal) || line.Contains('|', StringComparison.Ordinal))
            .Select(line => line.Split('│', '|').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray())];
}

/// <summary>A CSV file in a fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempCsv : IDisposable
{
    private readonly string folder;

    public TempCsv(string contents, string name = "data.csv")
    {
        folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backprop-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        Path = System.IO.Path.Combine(folder, name);
        File.WriteAllText(Path, contents);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
