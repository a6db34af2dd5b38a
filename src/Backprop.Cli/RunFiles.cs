using System.CommandLine;
using System.CommandLine.Parsing;
using Backprop.Plotting;
using Backprop.Serialization;

namespace Backprop.Cli;

/// <summary>
/// Every file a <c>train</c> run reads and writes, declared in one <see cref="OutputPlan"/> before
/// training: two outputs on one file (<c>--out m.bpm --report m.bpm</c>), or an output on an input
/// (<c>--out data.csv</c>), are refused before any work is done.
/// </summary>
internal static class RunFiles
{
    /// <exception cref="BackpropException">Two of the run's files are the same file.</exception>
    public static void Check(ParseResult parsed, string? modelFile, string checkpointFile, string? resumedFile)
    {
        var plan = new OutputPlan();
        foreach (var name in (string[])["--data", "--dataset", "--test"])
        {
            if (Value(parsed, name) is { } file && File.Exists(file))
            {
                plan.Input(file, name);
            }
        }
        if (resumedFile is not null)
        {
            plan.Input(resumedFile, "--resume");
        }
        if (modelFile is not null)
        {
            plan.Output(modelFile, "--out");
        }
        // The checkpoint continues the one it was resumed from.
        plan.Output(checkpointFile, "--checkpoint", replaces: "--resume");
        if (Value(parsed, "--report") is { Length: > 0 } report)
        {
            plan.Output(report, "--report");
        }
        if (Value(parsed, "--log") is { Length: > 0 } log)
        {
            plan.Output(log, "--log");
        }
        if (Value(parsed, "--plot") is { Length: > 0 } folder)
        {
            foreach (var picture in TrainingPictures.Names)
            {
                plan.Output(Path.Combine(folder, picture + ".png"), "--plot");
                plan.Output(Path.Combine(folder, picture + ".svg"), "--plot");
            }
        }
    }

    private static string? Value(ParseResult parsed, string option)
        => parsed.CommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => o.Option.Name == option && !o.Implicit) is { Tokens: [{ } token, ..] } ? token.Value : null;
}
