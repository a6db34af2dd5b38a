using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop train</c> (and <c>backprop</c> alone): builds a network, trains it by backpropagation
/// and reports the result. With no options: the lesson's network, data and settings.
/// </summary>
internal sealed class TrainCommand(TextWriter stdout)
{
    private readonly RunOptions options = new();
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object and nothing else" };
    private readonly Option<bool> monitor = new("--monitor") { Description = "Watch gradient health: each layer's gradient norm every step, vanishing and exploding gradients, dead ReLU units; stop at the first NaN or infinity" };
    private readonly Option<string?> output = new("--out") { Description = "Save the trained model to this file (see docs/model-format.md); an existing file is replaced whole", HelpName = "FILE", CustomParser = ModelOptions.FileName };

    public void AddTo(Command command)
    {
        options.AddNetworkOptions(command);
        options.AddTrainingOptions(command);
        command.Options.Add(monitor);
        command.Options.Add(output);
        command.Options.Add(json);
    }

    public int Invoke(ParseResult parsed)
    {
        var settings = options.Read(parsed, json: parsed.GetValue(json));
        var modelFile = parsed.GetValue(output);
        if (modelFile is not null)
        {
            ModelOptions.CheckWritable(modelFile);
        }
        var run = TrainingRun.Start(settings);
        var health = parsed.GetValue(monitor) ? new GradientHealthMonitor<double>() : null;
        var result = run.Train(monitors: health is null ? [] : [health]);
        if (modelFile is not null)
        {
            ModelOptions.FromRun(run, result).Save(modelFile);
        }
        if (settings.Json)
        {
            TrainReport.WriteJson(stdout, run, result, health);
        }
        else
        {
            TrainReport.WriteText(stdout, run, result, health);
            if (modelFile is not null)
            {
                stdout.WriteLine($"Model saved to {modelFile}");
            }
        }
        return BackpropCli.Success;
    }
}
