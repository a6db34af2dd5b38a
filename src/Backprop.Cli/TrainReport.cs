using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Training;
using Spectre.Console;
using static Backprop.Cli.JsonOutput;

namespace Backprop.Cli;

/// <summary>
/// Writes <c>backprop train</c> for every task: the preamble (what is trained, on what, until when),
/// one line per epoch, then the result as text for people or as one JSON object.
/// </summary>
internal static class TrainReport
{
    private const int MaxParameterRows = 40;
    private const int MaxPredictionRows = 20;

    /// <summary>Whether the text names the lesson's network as such (its sizes, SoftPlus).</summary>
    private static bool IsLesson(RunSpec s) => s.Network.IsLessonShaped && s.Network.Activation == Activation.SoftPlus;

    /// <summary>Whether the data is described in one phrase ("on dosage (3 rows)"): a regression run without held-out rows.</summary>
    private static bool Simple(RunSpec s) => !s.IsClassification && s.Data.Validation is null && s.Data.Test is null && s.Data.Standardization is null;

    /// <summary>The preamble: the network, the data, the loss and optimizer, the stopping rules.</summary>
    public static void WriteHeader(TextWriter stdout, RunSpec s, RunStart start)
    {
        var (train, validation, test, scaling) = s.Data;
        var what = IsLesson(s) ? "the lesson's network: " : "";
        var size = s.Network.IsLessonShaped && !s.IsClassification ? ""
            : $" ({start.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters, {(start.Precision == Precision.Float ? "float" : "double")})";
        stdout.WriteLine($"Training {what}{start.Network}{size}");
        var training = $"{s.Loss.DisplayName} loss, {s.Optimizer.DisplayName()} with learning rate {F(s.LearningRate)}{Tuning(s)}{Batching(s)}";
        if (Simple(s))
        {
            stdout.WriteLine($"on {train.Name} ({train.Count} rows), {training}");
        }
        else
        {
            var parts = new List<string> { $"{train.Count} training rows" };
            if (validation is not null)
            {
                parts.Add($"{validation.Count} validation rows");
            }
            if (test is not null)
            {
                parts.Add($"{test.Count} test rows");
            }
            if (train.ClassNames is { } classes)
            {
                parts.Add($"{classes.Count} classes");
            }
            stdout.WriteLine($"on {train.Name}: {string.Join(", ", parts)}{(scaling is null ? "" : ", inputs standardised on the training rows")}");
            stdout.WriteLine(training);
        }
        stdout.WriteLine($"stopping {StopRules(s.Options)}{EarlyStopping(s)}");
        stdout.WriteLine();
        // Before training, as Keras' summary(): each layer, its output shape and parameter count, the totals.
        stdout.Write(start.Summary.ToText());
        stdout.WriteLine();
        stdout.Flush();
    }

    /// <summary>One epoch's line: training loss (and accuracy), validation loss (and accuracy), time.</summary>
    public static void WriteEpoch(TextWriter stdout, EpochRecord e, RunSpec s)
    {
        // A full-batch run counted in steps (the lesson's): every step is an epoch, and is called a step.
        var steps = s.Options.Epochs is null && !s.IsMiniBatch;
        var of = s.Options.Epochs is { } n ? $"/{n}" : "";
        var line = steps ? $"Step {e.Step}: {s.Loss.DisplayName} {Loss(e.TrainLoss)}" : $"Epoch {e.Epoch}{of}: train loss {Loss(e.TrainLoss)}";
        if (e.TrainAccuracy is { } ta)
        {
            line += $", accuracy {Percent(ta)}";
        }
        if (e.ValidationLoss is { } vl)
        {
            line += $" | validation loss {Loss(vl)}";
            if (e.ValidationAccuracy is { } va)
            {
                line += $", accuracy {Percent(va)}";
            }
            if (e.ValidationMetrics is { } m)
            {
                line += $", RMSE {Loss(m.Rmse)}, MAE {Loss(m.Mae)}, R² {F4(m.RSquared)}";
            }
        }
        if (s.Schedule is not null)
        {
            line += $" | lr {F(e.LearningRate)}";
        }
        stdout.WriteLine(steps ? line : $"{line} | {e.Seconds.ToString("F2", CultureInfo.InvariantCulture)} s");
        stdout.Flush();
    }

    /// <summary>Writes the result as text.</summary>
    public static void WriteText(TextWriter stdout, RunResult run, long peakMemoryBytes, HealthSource? health = null)
    {
        if (run.Spec.IsClassification)
        {
            WriteClassification(stdout, run, peakMemoryBytes);
        }
        else
        {
            WriteRegression(stdout, run);
        }
        switch (health?.Monitor)
        {
            case GradientHealthMonitor<double> d:
                stdout.WriteLine();
                GradientHealthReport.WriteText(stdout, d);
                break;
            case GradientHealthMonitor<float> f:
                stdout.WriteLine();
                GradientHealthReport.WriteText(stdout, f);
                break;
        }
    }

    private static void WriteRegression(TextWriter stdout, RunResult run)
    {
        var (s, result) = (run.Spec, run.Result);
        var loss = s.Loss.DisplayName;
        // Sentences go straight to stdout: Spectre would wrap them at its width (80 when output is redirected).
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        if (run.Epochs.Count > 0 && EpochLines(s))
        {
            stdout.WriteLine();
        }
        stdout.WriteLine($"Starting {loss}: {F(result.InitialLoss)}");
        stdout.WriteLine($"Stopped after {result.Steps} step{(result.Steps == 1 ? "" : "s")}: {result.StopMessage}");
        stdout.WriteLine($"Final {loss}:    {F(result.FinalLoss)}");
        foreach (var (name, score) in Scores(run))
        {
            if (score.Regression is { } m)
            {
                stdout.WriteLine($"On the {name.ToLowerInvariant()} rows ({score.Rows}): MSE {F(m.Mse)}, RMSE {F(m.Rmse)}, MAE {F(m.Mae)}, R² {F(m.RSquared)}");
            }
        }
        stdout.WriteLine();

        var parameters = new Table().Border(TableBorder.Rounded).Title("Parameters");
        parameters.AddColumn(new TableColumn("Parameter"));
        parameters.AddColumn(new TableColumn("Start").RightAligned());
        parameters.AddColumn(new TableColumn("Final").RightAligned());
        parameters.AddColumn(new TableColumn("Trained"));
        var elements = run.Parameters();
        foreach (var p in elements.Take(MaxParameterRows))
        {
            parameters.AddRow(new Text(p.Name), new Text(F(p.Start)), new Text(F(p.Final)), new Text(p.Trained ? "yes" : "fixed"));
        }
        if (elements.Count > MaxParameterRows)
        {
            parameters.AddRow(new Text($"… {elements.Count - MaxParameterRows} more"), new Text(""), new Text(""), new Text(""));
        }
        console.Write(parameters);

        var data = s.Data.Train;
        var shown = data.Count <= MaxPredictionRows ? data : data.Take(MaxPredictionRows);
        var predicted = run.Predict(shown);
        var predictions = new Table().Border(TableBorder.Rounded).Title("Predictions");
        foreach (var name in data.InputNames.Take(4))
        {
            predictions.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        }
        predictions.AddColumn(new TableColumn(Markup.Escape(data.TargetNames[0]) + " (observed)").RightAligned());
        predictions.AddColumn(new TableColumn("Predicted").RightAligned());
        var outputs = predicted.Length / shown.Count;
        for (var r = 0; r < shown.Count; r++)
        {
            var cells = new List<Text>();
            for (var c = 0; c < Math.Min(data.InputCount, 4); c++)
            {
                cells.Add(new Text(F(data.Inputs[(r * data.InputCount) + c])));
            }
            cells.Add(new Text(F(data.Targets[r * data.TargetCount])));
            cells.Add(new Text(F(predicted[r * outputs])));
            predictions.AddRow(cells);
        }
        console.Write(predictions);
        if (data.Count > MaxPredictionRows)
        {
            stdout.WriteLine($"(first {MaxPredictionRows} of {data.Count} rows)");
        }
    }

    private static void WriteClassification(TextWriter stdout, RunResult o, long peakMemoryBytes)
    {
        var r = o.Result;
        stdout.WriteLine();
        stdout.WriteLine($"Stopped after {r.Steps} step{(r.Steps == 1 ? "" : "s")}: {r.StopMessage}");
        stdout.WriteLine($"Training loss {F4(r.InitialLoss)} → {F4(r.FinalLoss)}, training accuracy {Percent(o.Train?.Accuracy)}");
        if (o.Test is { } test)
        {
            stdout.WriteLine($"Test accuracy: {Percent(test.Accuracy)} ({test.Rows} rows), test loss {F4(test.Loss)}");
        }
        if (SecondsPerEpoch(o) is { } seconds)
        {
            stdout.WriteLine($"Seconds per epoch: {seconds.ToString("F2", CultureInfo.InvariantCulture)} (median of {o.Epochs.Count})");
        }
        stdout.WriteLine($"Peak memory: {peakMemoryBytes / (1024 * 1024)} MiB (peak working set of the process)");
        stdout.WriteLine();
        // Plain columns rather than a table: ten classes must fit 80 columns; classes are numbered in the header.
        var m = o.Confusion!;
        var labels = Enumerable.Range(0, m.Classes).Select(i => $"{i} {m.ClassNames[i]}").ToArray();
        var width = Math.Max(labels.Max(l => l.Length), "observed".Length) + 1;
        var cell = Math.Max(5, m.Total.ToString(CultureInfo.InvariantCulture).Length + 1);
        stdout.WriteLine($"Confusion matrix of the {o.ConfusionSource} rows (row: observed class, column: predicted class)");
        var header = new StringBuilder("observed".PadRight(width));
        for (var j = 0; j < m.Classes; j++)
        {
            header.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
        }
        stdout.WriteLine(header.Append("  correct").ToString());
        for (var i = 0; i < m.Classes; i++)
        {
            var line = new StringBuilder(labels[i].PadRight(width));
            long row = 0;
            for (var j = 0; j < m.Classes; j++)
            {
                line.Append(m[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(cell));
                row += m[i, j];
            }
            line.Append((row == 0 ? "–" : Percent((double)m[i, i] / row)).PadLeft(9));
            stdout.WriteLine(line.ToString());
        }
    }

    /// <summary>Writes the result as one JSON object.</summary>
    public static void WriteJson(TextWriter stdout, RunResult run, long peakMemoryBytes, HealthSource? health = null)
        => JsonOutput.Write(stdout, json =>
        {
            var r = run.Result;
            json.WriteNumber("steps", r.Steps);
            json.WriteString("stopReason", JsonNamingPolicy.CamelCase.ConvertName(r.StopReason.ToString()));
            Number(json, "initialLoss", r.InitialLoss);
            Number(json, "loss", r.FinalLoss);
            if (run.Spec.IsClassification)
            {
                WriteClassificationFields(json, run, peakMemoryBytes);
            }
            else
            {
                json.WriteStartObject("parameters");
                foreach (var p in run.Parameters())
                {
                    Number(json, p.Name, p.Final);
                }
                json.WriteEndObject();
                Numbers(json, "predictions", run.Predict(run.Spec.Data.Train));
                WriteRegressionEpochs(json, run);
                json.WriteStartObject("metrics");
                foreach (var (name, score) in Scores(run))
                {
                    if (score.Regression is { } m)
                    {
                        json.WriteStartObject(name.ToLowerInvariant());
                        json.WriteNumber("rows", score.Rows);
                        Number(json, "mse", m.Mse);
                        Number(json, "rmse", m.Rmse);
                        Number(json, "mae", m.Mae);
                        Number(json, "r2", m.RSquared);
                        json.WriteEndObject();
                    }
                }
                json.WriteEndObject();
            }
            json.WritePropertyName("summary");
            run.Summary.WriteJson(json);
            switch (health?.Monitor)
            {
                case GradientHealthMonitor<double> d:
                    json.WritePropertyName("gradientHealth");
                    GradientHealthReport.WriteJson(json, d);
                    break;
                case GradientHealthMonitor<float> f:
                    json.WritePropertyName("gradientHealth");
                    GradientHealthReport.WriteJson(json, f);
                    break;
            }
        });

    /// <summary>
    /// A regression run's epochs, as its epoch lines show them: training loss, validation loss with MSE,
    /// RMSE, MAE and R² (null without validation rows), and the epoch's time. Empty for a full-batch
    /// run counted in steps (the lesson's), whose every step is an epoch and which prints no epoch lines.
    /// </summary>
    private static void WriteRegressionEpochs(Utf8JsonWriter json, RunResult run)
    {
        json.WriteStartArray("epochs");
        foreach (var e in EpochLines(run.Spec) ? run.Epochs : [])
        {
            json.WriteStartObject();
            json.WriteNumber("epoch", e.Epoch);
            Number(json, "trainLoss", e.TrainLoss);
            Number(json, "validationLoss", e.ValidationLoss);
            Number(json, "validationMse", e.ValidationMetrics?.Mse);
            Number(json, "validationRmse", e.ValidationMetrics?.Rmse);
            Number(json, "validationMae", e.ValidationMetrics?.Mae);
            Number(json, "validationR2", e.ValidationMetrics?.RSquared);
            Number(json, "seconds", e.Seconds);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteClassificationFields(Utf8JsonWriter json, RunResult o, long peakMemoryBytes)
    {
        json.WriteNumber("parameterCount", o.ParameterCount);
        json.WriteStartArray("epochs");
        foreach (var e in o.Epochs)
        {
            json.WriteStartObject();
            json.WriteNumber("epoch", e.Epoch);
            Number(json, "trainLoss", e.TrainLoss);
            Number(json, "trainAccuracy", e.TrainAccuracy);
            Number(json, "validationLoss", e.ValidationLoss);
            Number(json, "validationAccuracy", e.ValidationAccuracy);
            Number(json, "seconds", e.Seconds);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        Number(json, "trainAccuracy", o.Train?.Accuracy);
        Number(json, "validationAccuracy", o.Epochs.Count > 0 ? o.Epochs[^1].ValidationAccuracy : null);
        Number(json, "testLoss", o.Test?.Loss);
        Number(json, "testAccuracy", o.Test?.Accuracy);
        Number(json, "secondsPerEpoch", SecondsPerEpoch(o));
        json.WriteNumber("peakMemoryBytes", peakMemoryBytes);
        json.WriteStartArray("classes");
        foreach (var name in o.Confusion!.ClassNames)
        {
            json.WriteStringValue(name);
        }
        json.WriteEndArray();
        json.WriteString("confusionMatrixOf", o.ConfusionSource);
        json.WriteStartArray("confusionMatrix");
        for (var i = 0; i < o.Confusion.Classes; i++)
        {
            json.WriteStartArray();
            for (var j = 0; j < o.Confusion.Classes; j++)
            {
                json.WriteNumberValue(o.Confusion[i, j]);
            }
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("predictions");
        foreach (var p in o.PredictedClasses!)
        {
            json.WriteNumberValue(p);
        }
        json.WriteEndArray();
    }

    // The scored row sets of a run, by name.
    private static IEnumerable<(string Name, Evaluation Score)> Scores(RunResult run)
    {
        foreach (var (name, score) in ((string, Evaluation?)[])[("Training", run.Train), ("Validation", run.Validation), ("Test", run.Test)])
        {
            if (score is { } s)
            {
                yield return (name, s);
            }
        }
    }

    /// <summary>Whether a run prints a line per epoch: classification runs, and runs counted in epochs or mini-batches.</summary>
    public static bool EpochLines(RunSpec s) => s.IsClassification || s.Options.Epochs is not null || s.IsMiniBatch;

    /// <summary>The median time of the epochs (the mean of the middle two for an even count); null without a completed epoch.</summary>
    public static double? SecondsPerEpoch(RunResult o)
    {
        if (o.Epochs.Count == 0)
        {
            return null;
        }
        var sorted = o.Epochs.Select(e => e.Seconds).Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>The schedule, weight decay and clipping as a phrase: ", cosine over 20 to 0 (t in epochs), weight decay 0.0001 (AdamW)".</summary>
    internal static string Tuning(RunSpec s)
    {
        var text = "";
        if (s.Schedule is { } schedule)
        {
            text += $", scheduled: {schedule} (t in {(s.ScheduleUnit == ScheduleUnit.Epoch ? "epochs" : "steps")})";
        }
        if (s.WeightDecay > 0)
        {
            text += $", weight decay {F(s.WeightDecay)} ({(s.Optimizer == OptimizerKind.Adam ? "decoupled: AdamW" : "L2")})";
        }
        if (s.MaxGradientNorm is { } clip)
        {
            text += $", gradients clipped to norm {F(clip)}";
        }
        return text;
    }

    /// <summary>Early stopping as a phrase after the stopping rules: ", or early when the validation loss has not improved for 3 epochs".</summary>
    internal static string EarlyStopping(RunSpec s)
        => s.Patience is { } p ? $", or early when the {s.EarlyStoppingMetric} has not improved for {p} epoch{(p == 1 ? "" : "s")} (the best epoch's weights then put back)" : "";

    private static string Batching(RunSpec s)
        => s.IsMiniBatch ? $", batches of {s.Options.BatchSize} rows shuffled with seed {s.Options.ShuffleSeed}" : "";

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

    // Losses of an epoch line: four decimals, or six significant digits when that would hide them.
    private static string Loss(double value) => Math.Abs(value) is >= 0.001 and < 1e6 ? F4(value) : F(value);

    private static string Percent(double? value) => value is { } v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%" : "–";

    private static string F(double value) => NumberText.Short(value);

    private static string F4(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
