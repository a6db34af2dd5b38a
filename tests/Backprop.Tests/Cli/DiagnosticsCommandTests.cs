using System.Diagnostics;
using System.Text.Json;
using Backprop.Cli;
using Backprop.Losses;
using Backprop.Tensors;
using Backprop.Tests.Diagnostics;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop explain</c>, <c>gradcheck</c>, <c>graph</c> and <c>train --monitor</c>.</summary>
public sealed class DiagnosticsCommandTests
{
    [Fact]
    public void Explain_prints_the_lessons_chain_rule_with_the_update()
    {
        var run = Run("explain", "--param", "w1");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Contains("dSSR/dw1 = Σ_i dSSR/dPredicted_i · dPredicted_i/dy1,i · dy1,i/dx1,i · dx1,i/dw1", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("dSSR/dPredicted_i  = −2(Observed_i − Predicted_i)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("= 0.760944", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("the sum equals it", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("step size = learning rate × derivative = 0.1 × 0.760944 = 0.0760944", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("new w1 = old − step size = 2.74 − 0.0760944 = 2.66391", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("dSSR/dPredicted_i → w1, b1, w2, b2, w3, w4, b3 (all 7)", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_json_holds_the_terms_values_and_the_update_of_the_asked_step()
    {
        var run = Run("explain", "--step", "2", "--lr", "0.05", "--json");

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("step").GetInt32());
        Assert.Equal("paths", root.GetProperty("view").GetString());
        var parameters = root.GetProperty("parameters").EnumerateArray().ToList();
        Assert.Equal(LessonNames, parameters.Select(p => p.GetProperty("name").GetString()));

        // Step 2 starts from the values after one step of gradient descent at lr 0.05.
        var start = LessonStart();
        var gradient = ClosedFormGradient(start);
        var afterOne = start.ToDictionary(p => p.Key, p => p.Value - (0.05 * gradient[p.Key]));
        var expected = ClosedFormGradient(afterOne);
        foreach (var p in parameters)
        {
            var name = p.GetProperty("name").GetString()!;
            Assert.Equal(afterOne[name], p.GetProperty("value").GetDouble(), 1e-12);
            Assert.Equal(expected[name], p.GetProperty("sum").GetDouble(), 1e-12);
            Assert.Equal(0.05 * expected[name], p.GetProperty("stepSize").GetDouble(), 1e-12);
            Assert.Equal(afterOne[name] - (0.05 * expected[name]), p.GetProperty("newValue").GetDouble(), 1e-12);
        }
    }

    [Fact]
    public void Explain_follows_only_and_stage_and_shows_fixed_parameters()
    {
        var stage = Run("explain", "--stage", "1");
        Assert.Equal(0, stage.ExitCode);
        Assert.Contains("dSSR/db3 = Σ_i", stage.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("dSSR/dw1 = Σ_i", stage.Stdout, StringComparison.Ordinal);

        var fixedOne = Run("explain", "--only", "b3", "--param", "w1");
        Assert.Contains("w1 is fixed (not trained): it stays 2.74.", fixedOne.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_works_on_other_data_and_with_adam()
    {
        using var csv = new TempCsv("dose,effect\n0,0\n0.25,0.5\n0.5,1\n1,0\n");

        var run = Run("explain", "--data", csv.Path, "--param", "b3", "--optimizer", "adam");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("  4 │", run.Stdout, StringComparison.Ordinal); // four data points
        Assert.Contains("new b3 = old − step size = 0 − 0.1 = -0.1", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_of_cross_entropy_names_the_softmax_nodes()
    {
        using var csv = new TempCsv("0,0\n0.5,1\n1,2\n");

        var run = Run("explain", "--data", csv.Path, "--layers", "1,3", "--loss", "cross-entropy", "--param", "layer0.bias[0]");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("dCrossEntropy/dPredicted[0]_i   = 1/3·Target[0]_i·1/SumExp_i·e^(Predicted[0]_i − Max_i) − 1/3·Target[0]_i", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Graph_output_replaces_the_file_whole()
    {
        var folder = Directory.CreateTempSubdirectory("i3-dot-");
        try
        {
            var file = Path.Combine(folder.FullName, "g.dot");
            File.WriteAllText(file, "old");

            var run = Run("graph", "--output", file, "--layers", "1,1");

            Assert.Equal(0, run.ExitCode);
            Assert.Contains("Wrote g.dot:", run.Stdout, StringComparison.Ordinal);
            Assert.StartsWith("digraph backprop {", File.ReadAllText(file), StringComparison.Ordinal);
            Assert.Equal(["g.dot"], folder.GetFiles().Select(f => f.Name));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Explain_uses_the_recurrence_for_deep_networks()
    {
        var run = Run("explain", "--layers", "1,3,3,3,1", "--param", "layer0.weight[0,0]");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("The backward pass, from the outputs to the first layer", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("dSSR/dlayer0.weight[0,0] = Σ_i dSSR/dlayer0.x[0],i · dlayer0.x[0],i/dlayer0.weight[0,0]", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("explain --step 0", "--step|from 1|got 0")]
    [InlineData("explain --step 2000", "--step 2000|--max-steps 1000")]
    [InlineData("explain --step 600", "Training stops after 472 steps|no step 600")]
    [InlineData("explain --param w9", "'w9'")]
    [InlineData("explain --param ,", "--param|at least one")]
    [InlineData("explain --view sideways", "'sideways'|auto, paths, recurrence")]
    [InlineData("explain --batch 2", "full-batch|--batch 2")]
    [InlineData("explain --layers 1,8,8,8,8,1 --view paths", "paths reach|recurrence")]
    [InlineData("gradcheck --tolerance -1", "--tolerance|got -1")]
    [InlineData("gradcheck --epsilon 0", "--epsilon|positive|got 0")]
    [InlineData("gradcheck --lr 0.1", "'--lr'")]
    [InlineData("graph --point 4", "--point|1 to 3|got 4")]
    [InlineData("graph --layers 1,100,100,1", "too many to draw")]
    [InlineData("graph --output /no/such/folder/g.dot", "/no/such/folder|does not exist")]
    public void Bad_input_gives_one_line_and_exit_code_2(string args, string mentions)
    {
        var message = AssertBadInput(Run(args.Split(' ')));

        foreach (var part in mentions.Split('|'))
        {
            Assert.Contains(part, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Gradcheck_passes_the_lesson_and_reports_both_checks()
    {
        var run = Run("gradcheck");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Passed: all 7 gradients agree within the tolerance 1E-06", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("scalar engine", run.Stdout, StringComparison.Ordinal);
        var json = Run("gradcheck", "--layers", "1,3,2,1", "--activation", "tanh", "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.True(doc.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(17, doc.RootElement.GetProperty("parameters").GetArrayLength());
        Assert.Equal(17, doc.RootElement.GetProperty("engines").GetArrayLength());
    }

    [Fact]
    public void Gradcheck_exits_1_on_a_wrong_derivative_rule_and_0_when_the_tolerance_allows_it()
    {
        var x = Tensor<double>.FromArray([0.0, 0.5, 1.0], 3, 1);
        var y = Tensor<double>.FromArray([0.0, 1.0, 0.0], 3, 1);
        using var strict = new StringWriter();
        using var loose = new StringWriter();

        Assert.Equal(1, GradcheckCommand.Run(strict, new InjectedModule(), new SumSquaredResiduals(), x, y, 1e-6, 1e-6, asJson: false));
        Assert.Equal(0, GradcheckCommand.Run(loose, new InjectedModule(), new SumSquaredResiduals(), x, y, 0.5, 1e-6, asJson: false));

        Assert.Contains("FAILED: 4 of 4 gradients differ by more than the tolerance 1E-06: inner.weight[0,0]", strict.ToString(), StringComparison.Ordinal);
        Assert.Contains("FAIL", strict.ToString().Split('\n').Single(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^  inner\.bias\[1\] +│")), StringComparison.Ordinal);
        Assert.Contains("Scalar engine not compared: the scalar engine builds networks of Dense layers only.", strict.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Graph_writes_dot_with_every_node_and_edge_labelled()
    {
        var run = Run("graph", "--point", "2");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Stdout.Split('\n');
        Assert.StartsWith("digraph backprop {", lines[0], StringComparison.Ordinal);
        var nodes = lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^  n\d+ \[label=")).ToList();
        var edges = lines.Where(l => l.Contains(" -> ", StringComparison.Ordinal)).ToList();
        // One data point of the lesson: 7 parameters, Input, Observed, 2 products and x, y for each hidden node,
        // 2 products for the output, Predicted, Residual, SquaredResidual, SSR.
        Assert.Equal(21, nodes.Count);
        Assert.Equal(21, edges.Count);
        Assert.Contains(nodes, l => l.Contains("label=\"w1\\nvalue 2.74\\ngrad -0.0407\"", StringComparison.Ordinal));
        Assert.Contains(nodes, l => l.Contains("label=\"y1,2\\n= SoftPlus(x1,2)\\nvalue 1.596", StringComparison.Ordinal));
        Assert.Contains(nodes, l => l.Contains("label=\"SSR\\n= SquaredResidual_2\\nvalue 0.0201", StringComparison.Ordinal));
        Assert.All(nodes, l => Assert.Matches(@"\\nvalue [^\\]+\\ngrad ", l));
        Assert.Equal("}", lines.Last(l => l.Length > 0));
    }

    [Fact]
    public void Graph_svg_is_drawn_by_dot_into_the_file_or_says_dot_is_missing()
    {
        var folder = Directory.CreateTempSubdirectory("i3-graph-");
        try
        {
            var svg = Path.Combine(folder.FullName, "lesson.svg");
            var run = Run("graph", "--svg", svg);

            if (!DotInstalled())
            {
                // Without Graphviz (.ci/run installs it) the command must say so, and write nothing.
                Assert.Contains("Graphviz's 'dot' is not installed", AssertBadInput(run), StringComparison.Ordinal);
                Assert.Empty(folder.GetFiles());
                return;
            }
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("Wrote lesson.svg: 21 nodes, 21 edges", run.Stdout, StringComparison.Ordinal);
            var text = File.ReadAllText(svg);
            Assert.Contains("<svg", text, StringComparison.Ordinal);
            Assert.Contains("SoftPlus(x1,1)", text, StringComparison.Ordinal);
            Assert.Equal(["lesson.svg"], folder.GetFiles().Select(f => f.Name)); // no temporary file left
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Graph_svg_reports_a_failing_dot_program_in_one_line()
    {
        var folder = Directory.CreateTempSubdirectory("i3-baddot-");
        try
        {
            var svg = Path.Combine(folder.FullName, "g.svg");
            File.WriteAllText(svg, "kept");
            var run = await RunWithEnvironmentAsync(new() { ["GRAPHVIZ_DOT"] = "/bin/false" }, "graph", "--svg", svg);

            var message = AssertBadInput(run);
            Assert.Contains("/bin/false failed with exit code 1", message, StringComparison.Ordinal);
            Assert.Equal("kept", File.ReadAllText(svg)); // the user's file is untouched
            Assert.Equal(["g.svg"], folder.GetFiles().Select(f => f.Name));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("2", "did not finish within 2 seconds and was stopped; nothing was written (BACKPROP_CHILD_TIMEOUT sets the limit in seconds).")]
    [InlineData("soon", "BACKPROP_CHILD_TIMEOUT must be a positive number of seconds; it is 'soon'.")]
    public async Task Graph_svg_stops_a_dot_program_that_never_ends(string limit, string expected)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var folder = Directory.CreateTempSubdirectory("harden-slowdot-");
        try
        {
            var program = Path.Combine(folder.FullName, "slow-dot");
            File.WriteAllText(program, "#!/bin/sh\nexec sleep 600\n");
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var svg = Path.Combine(folder.FullName, "g.svg");

            var run = await RunWithEnvironmentAsync(new() { ["GRAPHVIZ_DOT"] = program, ["BACKPROP_CHILD_TIMEOUT"] = limit }, "graph", "--svg", svg);

            var message = AssertBadInput(run);
            Assert.Equal(limit == "2" ? $"backprop: {program} {expected}" : $"backprop: {expected}", message);
            Assert.Equal(["slow-dot"], folder.GetFiles().Select(f => f.Name));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static bool DotInstalled()
        => Environment.GetEnvironmentVariable("GRAPHVIZ_DOT") is { Length: > 0 } d ? File.Exists(d)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(p => File.Exists(Path.Combine(p, "dot")));

    private static async Task<CliResult> RunWithEnvironmentAsync(Dictionary<string, string?> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Graph_svg_without_graphviz_says_how_to_install_it()
    {
        var empty = Directory.CreateTempSubdirectory("i3-nodot-");
        try
        {
            // No dot anywhere on PATH, and no GRAPHVIZ_DOT.
            var run = await RunWithEnvironmentAsync(new() { ["PATH"] = empty.FullName, ["GRAPHVIZ_DOT"] = null }, "graph", "--svg", Path.Combine(empty.FullName, "g.svg"));

            var message = AssertBadInput(run);
            Assert.Contains("Graphviz's 'dot' is not installed", message, StringComparison.Ordinal);
            Assert.Contains("apt-get install graphviz", message, StringComparison.Ordinal);
            Assert.Empty(empty.GetFiles());
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public void Train_monitor_adds_gradient_health_to_text_and_json()
    {
        var text = Run("train", "--monitor");
        Assert.Contains("Gradient health (per parameter, 472 steps)", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("No warnings", text.Stdout, StringComparison.Ordinal);

        var json = Run("train", "--monitor", "--lr", "2", "--json");
        Assert.Equal(3, json.ExitCode); // diverged
        using var doc = JsonDocument.Parse(json.Stdout);
        var health = doc.RootElement.GetProperty("gradientHealth");
        Assert.Equal(LessonNames, health.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!));
        Assert.Equal(doc.RootElement.GetProperty("steps").GetInt32(), health.GetProperty("norms").GetArrayLength());
        var kinds = health.GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("kind").GetString()).ToList();
        Assert.Contains("exploding", kinds);
        Assert.Contains("nonFinite", kinds);
        Assert.Equal("diverged", doc.RootElement.GetProperty("stopReason").GetString());
    }

    private static Dictionary<string, double> ClosedFormGradient(IReadOnlyDictionary<string, double> p)
    {
        double[] dosage = [0.0, 0.5, 1.0];
        double[] efficacy = [0.0, 1.0, 0.0];
        var g = LessonNames.ToDictionary(n => n, _ => 0.0);
        for (var i = 0; i < 3; i++)
        {
            var x1 = (dosage[i] * p["w1"]) + p["b1"];
            var x2 = (dosage[i] * p["w2"]) + p["b2"];
            var y1 = Math.Log(1 + Math.Exp(x1));
            var y2 = Math.Log(1 + Math.Exp(x2));
            var d = -2 * (efficacy[i] - ((y1 * p["w3"]) + (y2 * p["w4"]) + p["b3"]));
            var s1 = Math.Exp(x1) / (1 + Math.Exp(x1));
            var s2 = Math.Exp(x2) / (1 + Math.Exp(x2));
            g["w1"] += d * p["w3"] * s1 * dosage[i];
            g["b1"] += d * p["w3"] * s1;
            g["w2"] += d * p["w4"] * s2 * dosage[i];
            g["b2"] += d * p["w4"] * s2;
            g["w3"] += d * y1;
            g["w4"] += d * y2;
            g["b3"] += d;
        }
        return g;
    }
}
