using System.Globalization;
using System.Text.Json;
using Backprop.Diagnostics;
using Backprop.Training;
using Spectre.Console;

namespace Backprop.Cli;

/// <summary>Writes the outcome of <c>backprop train</c> as text for people or as one JSON object.</summary>
internal static class TrainReport
{
    private const int MaxParameterRows = 40;
    private const int MaxPredictionRows = 20;

    /// <summary>Writes the result as text; <paramref name="quiet"/> leaves out the preamble (what is trained, on what, until when).</summary>
    public static void WriteText(TextWriter stdout, TrainingRun run, TrainingResult result, GradientHealthMonitor<double>? health = null, bool quiet = false)
    {
        var s = run.Settings;
        var loss = s.Loss.DisplayName;
        // Sentences go straight to stdout: Spectre would wrap them at its width (80 when output is redirected).
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        var what = run.IsLessonNetwork && s.Activation == Nn.Activation.SoftPlus ? "the lesson's network: " : "";
        if (!quiet)
        {
            stdout.WriteLine($"Training {what}{run.Network.Describe()}");
            stdout.WriteLine($"on {s.Data.Name} ({s.Data.Count} rows), {s.Loss.DisplayName} loss, {OptimizerName(s.Optimizer)} with learning rate {F(s.LearningRate)}{Batching(s)}");
            stdout.WriteLine($"stopping {StopRules(s.Options)}");
            stdout.WriteLine();
        }
        stdout.WriteLine($"Starting {loss}: {F(result.InitialLoss)}");
        stdout.WriteLine($"Stopped after {result.Steps} step{(result.Steps == 1 ? "" : "s")}: {result.StopMessage}");
        stdout.WriteLine($"Final {loss}:    {F(result.FinalLoss)}");
        stdout.WriteLine();

        var parameters = new Table().Border(TableBorder.Rounded).Title("Parameters");
        parameters.AddColumn(new TableColumn("Parameter"));
        parameters.AddColumn(new TableColumn("Start").RightAligned());
        parameters.AddColumn(new TableColumn("Final").RightAligned());
        parameters.AddColumn(new TableColumn("Trained"));
        var elements = run.Parameters();
        foreach (var (e, start) in elements.Take(MaxParameterRows))
        {
            parameters.AddRow(new Text(e.Name), new Text(F(start)), new Text(F(e.Value)), new Text(e.IsTrainable ? "yes" : "fixed"));
        }
        if (elements.Count > MaxParameterRows)
        {
            parameters.AddRow(new Text($"… {elements.Count - MaxParameterRows} more"), new Text(""), new Text(""), new Text(""));
        }
        console.Write(parameters);

        var predicted = run.Predict();
        var data = s.Data;
        var predictions = new Table().Border(TableBorder.Rounded).Title("Predictions");
        foreach (var name in data.InputNames.Take(4))
        {
            predictions.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        }
        predictions.AddColumn(new TableColumn(Markup.Escape(data.TargetNames[0]) + " (observed)").RightAligned());
        predictions.AddColumn(new TableColumn("Predicted").RightAligned());
        var outputs = predicted.Shape.Columns;
        for (var r = 0; r < Math.Min(data.Count, MaxPredictionRows); r++)
        {
            var cells = new List<Text>();
            for (var c = 0; c < Math.Min(data.InputCount, 4); c++)
            {
                cells.Add(new Text(F(data.Inputs[(r * data.InputCount) + c])));
            }
            cells.Add(new Text(F(data.Targets[r])));
            cells.Add(new Text(s.Loss.IsClassification ? $"class {ArgMax(predicted.Data.Slice(r * outputs, outputs))}" : F(predicted[r * outputs])));
            predictions.AddRow(cells);
        }
        console.Write(predictions);
        if (data.Count > MaxPredictionRows)
        {
            stdout.WriteLine($"(first {MaxPredictionRows} of {data.Count} rows)");
        }
        if (health is not null)
        {
            stdout.WriteLine();
            GradientHealthReport.WriteText(stdout, health);
        }
    }

    public static void WriteJson(TextWriter stdout, TrainingRun run, TrainingResult result, GradientHealthMonitor<double>? health = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("steps", result.Steps);
            json.WriteString("stopReason", JsonNamingPolicy.CamelCase.ConvertName(result.StopReason.ToString()));
            WriteNumber(json, "initialLoss", result.InitialLoss);
            WriteNumber(json, "loss", result.FinalLoss);
            json.WriteStartObject("parameters");
            foreach (var (e, _) in run.Parameters())
            {
                WriteNumber(json, e.Name, e.Value);
            }
            json.WriteEndObject();
            json.WriteStartArray("predictions");
            var predicted = run.Predict();
            for (var i = 0; i < predicted.Length; i++)
            {
                WriteNumber(json, null, predicted[i]);
            }
            json.WriteEndArray();
            if (health is not null)
            {
                json.WritePropertyName("gradientHealth");
                GradientHealthReport.WriteJson(json, health);
            }
            json.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    // JSON has no NaN or infinity: a diverged run reports them as null.
    private static void WriteNumber(Utf8JsonWriter json, string? name, double value)
    {
        if (name is not null)
        {
            json.WritePropertyName(name);
        }
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }

    internal static string OptimizerName(string name) => name.Trim().ToUpperInvariant() switch
    {
        "MOMENTUM" => "momentum",
        "ADAM" => "Adam",
        _ => "gradient descent",
    };

    private static string Batching(TrainSettings s)
        => s.Options.BatchSize is { } b && b < s.Data.Count ? $", batches of {b} rows" : "";

    /// <summary>
    /// The stopping rules as a phrase after "stopping": "when every step size is below 0.001, or
    /// after 1000 steps", "after 10 epochs", "after 50 steps".
    /// </summary>
    internal static string StopRules(TrainingOptions o)
    {
        var conditions = new List<string>();
        if (o.MinStepSize is { } m)
        {
            conditions.Add($"every step size is below {F(m)}");
        }
        if (o.TargetLoss is { } t)
        {
            conditions.Add($"the loss reaches {F(t)}");
        }
        var rules = new List<string>();
        if (o.Epochs is { } e)
        {
            rules.Add($"after {e} epoch{(e == 1 ? "" : "s")}");
        }
        if (conditions.Count > 0)
        {
            rules.Add("when " + string.Join(", or ", conditions));
        }
        if (o.MaxSteps != int.MaxValue)
        {
            rules.Add($"after {o.MaxSteps} steps");
        }
        return string.Join(", or ", rules);
    }

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
