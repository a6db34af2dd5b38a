using System.CommandLine;
using System.Globalization;
using System.Text;
using Backprop.Scalar;
using Backprop.Serialization;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop graph</c>: the computation graph of the network for one data point, as Graphviz DOT,
/// each node labelled with its name, value and gradient; with <c>--svg FILE</c>, drawn by Graphviz's <c>dot</c>.
/// </summary>
internal sealed class GraphCommand(TextWriter stdout)
{
    /// <summary>The environment variable that names the <c>dot</c> program (as PlantUML reads it); PATH is searched otherwise.</summary>
    public const string DotVariable = "GRAPHVIZ_DOT";

    // Beyond this a drawing is unreadable (and dot slow).
    private const int MaxNodes = 5000;

    private readonly RunOptions options = new();
    private readonly Option<int> point = new("--point") { Description = "The data point (row, from 1) whose graph to draw", DefaultValueFactory = _ => 1, HelpName = "N", CustomParser = r => RunOptions.ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<FileInfo?> output = new("--output", "-o") { Description = "Write the DOT text to FILE instead of the screen", HelpName = "FILE", CustomParser = RunOptions.ParseFile };
    private readonly Option<FileInfo?> svg = new("--svg") { Description = $"Draw the graph as SVG into FILE with Graphviz's dot (found on PATH, or named by {DotVariable})", HelpName = "FILE", CustomParser = RunOptions.ParseFile };

    public Command Create()
    {
        var command = new Command("graph", "Write the computation graph for one data point as Graphviz DOT: every node with its name, value and gradient (default: the lesson's network, data point 1).");
        options.AddNetworkOptions(command);
        foreach (Option option in (Option[])[point, output, svg])
        {
            command.Options.Add(option);
        }
        command.SetAction(Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        var spec = options.Read(parsed, training: false);
        ScalarScope.Check(spec, "graph");
        var row = parsed.GetValue(point);
        var data = spec.Data.Train;
        if (row < 1 || row > data.Count)
        {
            throw new BackpropException($"--point must be a data point from 1 to {data.Count}; got {row}.");
        }
        var network = spec.Network.Build<double>();
        var (inputs, targets) = (data.InputCount, data.TargetCount);
        var graph = NetworkGraph.Build(
            network, spec.Loss, data.Inputs.Slice((row - 1) * inputs, inputs).ToArray(), data.Targets.Slice((row - 1) * targets, targets).ToArray(), row);
        var nodes = graph.Loss.TopologicalOrder();
        if (nodes.Count > MaxNodes)
        {
            throw new BackpropException($"The graph has {nodes.Count} nodes, too many to draw (at most {MaxNodes}); choose a smaller network with --layers.");
        }
        graph.Loss.Backward();
        var dot = Dot(graph, nodes);
        var svgFile = parsed.GetValue(svg);
        var dotFile = parsed.GetValue(output);
        var paths = new OutputPlan();
        if (parsed.GetValue<FileInfo?>("--data") is { } dataFile)
        {
            paths.Input(dataFile.FullName, "--data");
        }
        if (dotFile is not null)
        {
            paths.Output(dotFile.FullName, "--output");
        }
        if (svgFile is not null)
        {
            paths.Output(svgFile.FullName, "--svg");
        }
        // Both files or neither: each is staged beside its target and renamed once both are ready.
        using var files = new AtomicFileSet();
        var written = new List<string>();
        if (dotFile is not null)
        {
            var bytes = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(dot);
            files.Stage(dotFile.FullName, "graph", s => s.Write(bytes));
            written.Add($"Wrote {dotFile.Name}: {nodes.Count} nodes, {nodes.Sum(n => n.Inputs.Count)} edges (DOT).");
        }
        if (svgFile is not null)
        {
            var program = FindDot() ?? throw new BackpropException(
                "Graphviz's 'dot' is not installed (or not on PATH), so --svg cannot draw the graph. Install Graphviz "
                + "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; Windows: winget install graphviz), "
                + $"or set {DotVariable} to the dot program, or write DOT with --output and draw it elsewhere.");
            files.StageFile(svgFile.FullName, "graph picture", path => RunDot(program, dot, path));
            written.Add($"Wrote {svgFile.Name}: {nodes.Count} nodes, {nodes.Sum(n => n.Inputs.Count)} edges (SVG, drawn by {program}).");
        }
        files.Commit();
        foreach (var line in written)
        {
            stdout.WriteLine(line);
        }
        if (dotFile is null && svgFile is null)
        {
            stdout.Write(dot);
        }
        return BackpropCli.Success;
    }

    /// <summary>The graph in DOT: inputs on the left, the loss on the right; each edge labelled with the local derivative.</summary>
    public static string Dot(NetworkGraph graph, IReadOnlyList<Value> nodes)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(nodes);
        var id = new Dictionary<Value, string>();
        var text = new StringBuilder();
        text.AppendLine("digraph backprop {");
        text.AppendLine("  rankdir=LR;");
        text.AppendLine("  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];");
        text.AppendLine("  edge [fontname=\"Helvetica\", fontsize=10];");
        var parameters = new HashSet<Value>(graph.Parameters.Values);
        foreach (var node in nodes)
        {
            id[node] = $"n{id.Count}";
            var lines = new List<string> { node.Name };
            if (node.Op.Length > 0)
            {
                var definition = node.Definition(v => v.Name);
                if (definition != node.Name)
                {
                    lines.Add("= " + definition);
                }
            }
            lines.Add($"value {G(node.Data)}");
            lines.Add($"grad {G(node.Grad)}");
            var style = parameters.Contains(node) ? ", fillcolor=\"#cfe2ff\""
                : node == graph.Loss ? ", fillcolor=\"#f8d7da\""
                : graph.IsUnit(node) ? ", fillcolor=\"#d1e7dd\""
                : node.Op.Length == 0 ? ", shape=ellipse, fillcolor=\"#eeeeee\"" : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {id[node]} [label=\"{string.Join("\\n", lines.Select(Escape))}\"{style}];");
        }
        foreach (var node in nodes)
        {
            for (var j = 0; j < node.Inputs.Count; j++)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {id[node.Inputs[j]]} -> {id[node]} [label=\"{Escape(G(node.LocalGradients[j]))}\"];");
            }
        }
        text.AppendLine("}");
        return text.ToString();
    }

    // The dot program: GRAPHVIZ_DOT when set, else the first 'dot' on PATH.
    private static string? FindDot()
    {
        if (Environment.GetEnvironmentVariable(DotVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }
        var names = OperatingSystem.IsWindows() ? new[] { "dot.exe" } : ["dot"];
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static void RunDot(string program, string dot, string svgPath)
    {
        var (exitCode, errors) = ChildProgram.Run(program, ["-Tsvg", "-o", svgPath], dot);
        if (exitCode != 0)
        {
            var first = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            throw new BackpropException($"{program} failed with exit code {exitCode}: {first.Trim()}");
        }
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static string G(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
}
