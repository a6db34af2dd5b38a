using System.CommandLine;
using Backprop.Diagnostics;

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

    public void AddTo(Command command)
    {
        options.AddNetworkOptions(command);
        options.AddTrainingOptions(command);
        command.Options.Add(monitor);
        command.Options.Add(json);
    }

    public int Invoke(ParseResult parsed)
    {
        var settings = options.Read(parsed, json: parsed.GetValue(json));
        var run = TrainingRun.Start(settings);
        var health = parsed.GetValue(monitor) ? new GradientHealthMonitor<double>() : null;
        var result = run.Train(monitors: health is null ? [] : [health]);
        if (settings.Json)
        {
            TrainReport.WriteJson(stdout, run, result, health);
        }
        else
        {
            TrainReport.WriteText(stdout, run, result, health);
        }
        return BackpropCli.Success;
    }
}
