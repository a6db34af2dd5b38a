using System.CommandLine;
using System.Globalization;
using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Runs;
using Backprop.Scalar;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop explain</c>: one training step's derivatives written out by the chain rule, term by
/// term with real numbers, read off the scalar engine's graph and checked against both engines.
/// </summary>
internal sealed class ExplainCommand(TextWriter stdout)
{
    private readonly RunOptions options = new();
    private readonly Option<int> step = new("--step") { Description = "The training step to explain (1 for the first, at the starting values)", DefaultValueFactory = _ => 1, HelpName = "N", CustomParser = r => RunOptions.ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<string?> param = new("--param") { Description = "Explain only these parameters, e.g. w1 or w1,b3 (default: every trained parameter)", HelpName = "NAMES" };
    private readonly Option<string> view = new("--view") { Description = "paths (the lesson's products along each path), recurrence (layer by layer), or auto: paths unless many paths reach a parameter or their tables are wider than the terminal", DefaultValueFactory = _ => "auto", HelpName = "auto|paths|recurrence" };
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object and nothing else" };

    public Command Create()
    {
        var command = new Command("explain", "Write out one training step's derivatives by the chain rule, term by term, with the numbers (default: the lesson's first step).");
        options.AddNetworkOptions(command);
        options.AddTrainingOptions(command);
        foreach (Option option in (Option[])[step, param, view, json])
        {
            command.Options.Add(option);
        }
        command.SetAction(Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        var spec = options.Read(parsed);
        var data = spec.Data.Train;
        var stepNumber = parsed.GetValue(step);
        if (stepNumber < 1)
        {
            throw new BackpropException($"--step counts from 1 (the first step); got {stepNumber}.");
        }
        if (stepNumber > spec.Options.MaxSteps)
        {
            throw new BackpropException($"--step {stepNumber} is after the last step (--max-steps {spec.Options.MaxSteps}).");
        }
        if (spec.Options.BatchSize is { } rows && rows < data.Count)
        {
            throw new BackpropException($"explain writes out full-batch steps, over every row; --batch {rows} uses {rows} of the {data.Count} rows per step.");
        }
        var viewChoice = parsed.GetValue(view)!.Trim().ToLowerInvariant() switch
        {
            "auto" => ExplanationView.Auto,
            "paths" => ExplanationView.Paths,
            "recurrence" => ExplanationView.Recurrence,
            var other => throw new BackpropException($"Unknown view '{other}'; choose one of auto, paths, recurrence."),
        };
        // The scalar engine builds one named number per parameter and data point.
        var parameterCount = spec.Network.Layers.Zip(spec.Network.Layers.Skip(1), (a, b) => ((long)a * b) + b).Sum();
        if (parameterCount * data.Count > GradcheckCommand.MaxScalarNodes)
        {
            throw new BackpropException($"explain builds one named number per parameter and data point: {parameterCount * data.Count} for this network and data, too many (at most {GradcheckCommand.MaxScalarNodes}); choose a smaller network with --layers.");
        }
        var network = spec.Network.Build<double>();
        var names = parsed.GetValue(param) is { } list
            ? RunOptions.SplitNames(list, "--param").Select(n => network.Element(n).Name).Distinct().ToArray()
            : null;

        // Train up to the step, catch its gradients and its update from the tensor engine, and rewind to before it.
        var captured = new TrainingRun(spec).CaptureStep(stepNumber);
        if (!captured.Reached)
        {
            var result = captured.Result;
            throw new BackpropException($"Training stops after {result.Steps} step{(result.Steps == 1 ? "" : "s")} ({result.StopMessage}); there is no step {stepNumber} to explain.");
        }
        network = captured.Network;
        var elements = network.Elements().ToList();
        var graph = NetworkGraph.Build(network, spec.Loss, data.Inputs.ToArray(), data.Targets.ToArray());
        var tensorGradients = elements.Select((e, i) => (e.Name, captured.Gradients![i])).ToDictionary();
        var ordered = Lesson.IsLessonShaped(network) ? [.. elements.OrderBy(e => Lesson.ParameterNames.ToList().IndexOf(e.Name))] : elements;
        names ??= [.. ordered.Where(e => e.IsTrainable).Select(e => e.Name)];
        if (names.Length == 0)
        {
            names = [.. ordered.Select(e => e.Name)];
        }
        var updates = names.ToDictionary(n => n, n =>
        {
            var i = elements.FindIndex(e => e.Name == n);
            var key = elements[i].Parameter.Name;
            var index = elements[i].Index;
            return new ParameterUpdate(captured.Before![i], captured.After![i], elements[i].IsTrainable,
                captured.StateBefore!.Arrays.Where(a => a.Key.EndsWith("/" + key, StringComparison.Ordinal)).ToDictionary(a => a.Key[..a.Key.IndexOf('/', StringComparison.Ordinal)], a => a.Value[index]),
                captured.StateAfter!.Arrays.Where(a => a.Key.EndsWith("/" + key, StringComparison.Ordinal)).ToDictionary(a => a.Key[..a.Key.IndexOf('/', StringComparison.Ordinal)], a => a.Value[index]));
        });
        var forward = ForwardPassTable.Read(graph);
        var width = TerminalWidth();
        var explanation = ChainRule.Explain(graph, names, viewChoice, tensorGradients);
        var report = new ExplainReport(spec, network, stepNumber, explanation, updates, forward, captured.Optimizer!, width);
        // --view auto: the paths while their tables fit the terminal, else the recurrence.
        if (viewChoice == ExplanationView.Auto && report.WidestPathTable() > width)
        {
            explanation = ChainRule.Explain(graph, names, ExplanationView.Recurrence, tensorGradients);
            report = new ExplainReport(spec, network, stepNumber, explanation, updates, forward, captured.Optimizer!, width);
        }
        if (parsed.GetValue(json))
        {
            report.WriteJson(stdout);
        }
        else
        {
            report.WriteText(stdout);
        }
        return BackpropCli.Success;
    }

    /// <summary>
    /// The width text may take: $COLUMNS when set, else the terminal's width when stdout is one, else 100
    /// (a pipe or a file has no width; 100 keeps the lesson's tables and is still readable).
    /// </summary>
    internal static int TerminalWidth()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var columns) && columns > 0)
        {
            return columns;
        }
        if (!Console.IsOutputRedirected)
        {
            try
            {
                if (Console.WindowWidth > 0)
                {
                    return Console.WindowWidth;
                }
            }
            catch (IOException)
            {
                // No terminal after all.
            }
        }
        return 100;
    }
}

/// <summary>
/// A parameter's value before and after the explained step, and its optimizer state by kind (momentum's
/// <c>velocity</c>, Adam's <c>m</c> and <c>v</c>) before and after it; none for gradient descent.
/// </summary>
internal readonly record struct ParameterUpdate(
    double Old, double New, bool Trained, IReadOnlyDictionary<string, double> StateBefore, IReadOnlyDictionary<string, double> StateAfter)
{
    /// <summary>The state of <paramref name="kind"/> before the step; 0 before the first (the state starts at 0).</summary>
    public double Before(string kind) => StateBefore.GetValueOrDefault(kind);

    /// <summary>The state of <paramref name="kind"/> after the step.</summary>
    public double After(string kind) => StateAfter.GetValueOrDefault(kind);
}
