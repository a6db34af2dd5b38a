using System.CommandLine;
using Backprop.Diagnostics;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop train</c> (and <c>backprop</c> alone): builds a network, trains it by backpropagation
/// and reports the result. With no options: the lesson's network, data and settings.
/// </summary>
internal sealed class TrainCommand(TextWriter stdout)
{
    private readonly RunOptions options = new();
    private readonly TrainOutputs outputs = new();
    private readonly CheckpointOptions checkpoints = new();
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object and nothing else" };
    private readonly Option<bool> monitor = new("--monitor") { Description = "Watch gradient health: each layer's gradient norm every step, vanishing and exploding gradients, dead ReLU units; stop at the first NaN or infinity" };
    private readonly Option<string?> output = new("--out") { Description = "Save the trained model to this file (see docs/model-format.md); an existing file is replaced whole", HelpName = "FILE", CustomParser = ModelOptions.FileName };

    public void AddTo(Command command)
    {
        options.AddNetworkOptions(command);
        options.AddTrainingOptions(command);
        options.AddDatasetOptions(command);
        command.Options.Add(monitor);
        command.Options.Add(output);
        foreach (var option in (Option[])[.. outputs.Options, .. checkpoints.Options])
        {
            command.Options.Add(option);
        }
        command.Options.Add(json);
    }

    /// <summary>How progress shows while training; set by the command line's caller (is stdout a terminal?).</summary>
    public ProgressSettings Progress { get; init; } = ProgressSettings.For(stdoutIsTerminal: false);

    /// <summary>Where progress lines go when stdout is not a terminal.</summary>
    public TextWriter Stderr { get; init; } = TextWriter.Null;

    public int Invoke(ParseResult parsed)
    {
        var resumed = checkpoints.ReadResume(parsed);
        if (resumed is { Args: var args })
        {
            // The checkpoint's options, parsed as if they had been given: the run continues as it was started.
            var command = new Command("train");
            AddTo(command);
            parsed = command.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                throw new BackpropException($"{resumed.Value.File}: invalid checkpoint: its options do not parse: {parsed.Errors[0].Message}");
            }
        }
        var settings = options.Read(parsed, json: parsed.GetValue(json));
        var modelFile = parsed.GetValue(output);
        if (modelFile is not null)
        {
            ModelOptions.CheckWritable(modelFile);
        }
        if (settings.Loss.IsClassification)
        {
            // NOTE: refused rather than ignored: a user who asks for pictures must not find none.
            string[] unsupported = [.. outputs.Drawing(parsed), .. parsed.GetValue(monitor) ? ["--monitor"] : Array.Empty<string>()];
            if (unsupported.Length > 0)
            {
                throw new BackpropException($"{string.Join(" and ", unsupported)} {(unsupported.Length == 1 ? "is" : "are")} for regression runs for now; this run classifies (--loss cross-entropy).");
            }
        }
        using var interruption = Interruption.Listen();
        var plan = checkpoints.Plan(parsed, settings, modelFile, resumed, interruption);
        RunFiles.Check(parsed, modelFile, plan.Path, resumed?.File);
        if (settings.Loss.IsClassification)
        {
            return ClassificationRun.Run(settings, stdout, modelFile, plan, outputs.Quiet(parsed));
        }
        var shown = outputs.Read(parsed);
        IReadOnlyList<string> written;
        TrainingRun run;
        TrainingResult result;
        GradientHealthMonitor<double>? health;
        try
        {
            run = TrainingRun.Start(settings);
            run.Resume = plan.ResumeState<double>();
            var recorder = shown.Recorder(run);
            health = parsed.GetValue(monitor) ? new GradientHealthMonitor<double>() : null;
            var progress = shown.Quiet ? Progress with { Style = ProgressStyle.None }
                : settings.Json && Progress.Style == ProgressStyle.Bar ? ProgressSettings.For(stdoutIsTerminal: false) : Progress;
            TrainingMonitor<double>[] monitors = [.. new TrainingMonitor<double>?[] { recorder, health, new CheckpointMonitor<double>(plan) }.OfType<TrainingMonitor<double>>()];
            result = TrainProgress.Run(run, monitors, progress, stdout, Stderr);
            interruption.Dispose();
            if (result.StopReason == StopReason.Interrupted)
            {
                throw new TrainingInterruptedException(plan.InterruptedLine(result.Steps));
            }
            // Everything is rendered and staged first, then renamed into place together: a failure
            // half-way leaves none of the outputs and every earlier file as it was.
            using var files = new AtomicFileSet();
            written = shown.Stage(files, run, recorder);
            if (modelFile is not null)
            {
                var bytes = ModelFile.ToBytes(ModelOptions.FromRun(run, result));
                files.Stage(modelFile, "model", s => s.Write(bytes));
                written = [.. written, $"Model saved to {modelFile}"];
            }
            files.Commit();
        }
        finally
        {
            // Nothing is left behind by a run that failed or was interrupted, not even the empty folder it made.
            shown.RemoveUnusedFolder();
        }
        if (settings.Json)
        {
            TrainReport.WriteJson(stdout, run, result, health);
        }
        else
        {
            TrainReport.WriteText(stdout, run, result, health, shown.Quiet);
            foreach (var line in shown.Quiet ? [] : written)
            {
                stdout.WriteLine(line);
            }
        }
        return BackpropCli.Success;
    }
}
