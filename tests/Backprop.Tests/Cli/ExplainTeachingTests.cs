using System.Text.Json;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// <c>explain</c> writes out every optimizer's arithmetic and the forward pass, and picks the view
/// that fits the width; <c>gradcheck</c> lists failures first and names a ReLU kink behind one.
/// </summary>
public sealed class ExplainTeachingTests
{
    // The lesson's first step: dSSR/dw1 = 0.760944 (see DiagnosticsCommandTests).
    [Fact]
    public void Explain_writes_out_momentums_velocity_and_step()
    {
        var run = Run("explain", "--param", "w1", "--optimizer", "momentum");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("velocity v = momentum × old v + derivative = 0.9 × 0 + 0.760944 = 0.760944", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("step size = learning rate × v = 0.1 × 0.760944 = 0.0760944", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("new w1 = old − step size = 2.74 − 0.0760944 = 2.66391", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("its own rule", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_writes_out_adams_moments_their_bias_correction_and_the_step()
    {
        var run = Run("explain", "--param", "w1", "--optimizer", "adam");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Adam's step t = 1:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("m = β₁ × old m + (1 − β₁) × derivative = 0.9 × 0 + 0.1 × 0.760944 = 0.0760944", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("v = β₂ × old v + (1 − β₂) × derivative² = 0.999 × 0 + 0.001 × 0.579035 = 0.000579035", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("m̂ = m / (1 − β₁^t) = 0.0760944 / 0.1 = 0.760944", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("v̂ = v / (1 − β₂^t) = 0.000579035 / 0.001 = 0.579035", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("step size = learning rate × m̂ / (√v̂ + ε) = 0.1 × 0.760944 / (0.760944 + 1E-08) = 0.1", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("new w1 = old − step size = 2.74 − 0.1 = 2.64", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_json_holds_the_optimizer_state_after_the_step()
    {
        var step1 = JsonDocument.Parse(Run("explain", "--param", "w1", "--optimizer", "momentum", "--json").Stdout).RootElement;
        var step2 = JsonDocument.Parse(Run("explain", "--param", "w1", "--optimizer", "momentum", "--step", "2", "--json").Stdout).RootElement;
        var p1 = step1.GetProperty("parameters")[0];
        var p2 = step2.GetProperty("parameters")[0];
        // v₂ = μ·v₁ + g₂, and the step is lr·v₂.
        var v2 = (0.9 * p1.GetProperty("velocity").GetDouble()) + p2.GetProperty("sum").GetDouble();
        Assert.Equal(v2, p2.GetProperty("velocity").GetDouble(), 1e-12);
        Assert.Equal(0.1 * v2, p2.GetProperty("stepSize").GetDouble(), 1e-12);
        var adam = JsonDocument.Parse(Run("explain", "--param", "w1", "--optimizer", "adam", "--json").Stdout).RootElement.GetProperty("parameters")[0];
        Assert.Equal(0.1 * 0.760944, adam.GetProperty("m").GetDouble(), 1e-6);
        Assert.Equal(0.001 * 0.760944 * 0.760944, adam.GetProperty("v").GetDouble(), 1e-8);
    }

    [Fact]
    public void Explain_shows_the_forward_pass_point_by_point()
    {
        var run = Run("explain", "--param", "w1");
        var json = JsonDocument.Parse(Run("explain", "--param", "w1", "--json").Stdout).RootElement.GetProperty("forward");

        Assert.Contains("The forward pass at these values, data point by data point:", run.Stdout, StringComparison.Ordinal);
        var columns = json.GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Equal(["Input_i", "x1,i", "y1,i", "x2,i", "y2,i", "Predicted_i", "Observed_i"], columns.Where(c => c is not "Residual_i" and not "SquaredResidual_i"));
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        // Data point 2: Input 0.5; x1 = 0.5·w1 + b1 = 0.5·2.74 + 0 = 1.37; y1 = SoftPlus(1.37).
        Assert.Equal(0.5, rows[1][columns.IndexOf("Input_i")].GetDouble());
        Assert.Equal(0.5 * 2.74, rows[1][columns.IndexOf("x1,i")].GetDouble(), 1e-12);
        Assert.Equal(Math.Log(1 + Math.Exp(1.37)), rows[1][columns.IndexOf("y1,i")].GetDouble(), 1e-12);
        Assert.Equal(1, rows[1][columns.IndexOf("Observed_i")].GetDouble());
        var header = run.Stdout.Split('\n').First(l => l.Contains("Predicted_i", StringComparison.Ordinal) && l.Contains("x1,i", StringComparison.Ordinal));
        Assert.Matches(@"^  i │ Input_i │ +x1,i │", header);
    }

    [Fact]
    public void Auto_switches_to_the_recurrence_where_the_paths_tables_are_wider_than_the_width()
    {
        using var csv = new TempCsv("a,b,y\n0,1,0\n1,0,1\n0.5,0.5,1\n");

        // Output to a pipe: 100 columns. The lesson's tables fit; the 2-2-1 network's do not (about 140).
        Assert.Contains("Σ_i dSSR/dPredicted_i · dPredicted_i/dy1,i", Run("explain", "--param", "w1").Stdout, StringComparison.Ordinal);
        var auto = Run("explain", "--data", csv.Path, "--layers", "2,2,1", "--param", "layer0.weight[0,0]");
        var paths = Run("explain", "--data", csv.Path, "--layers", "2,2,1", "--param", "layer0.weight[0,0]", "--view", "paths");

        Assert.Equal(0, auto.ExitCode);
        Assert.DoesNotContain("The backward pass, from the outputs to the first layer", paths.Stdout, StringComparison.Ordinal);
        var widest = paths.Stdout.Split('\n').Where(l => l.Contains('│', StringComparison.Ordinal)).Max(l => l.Length);
        Assert.InRange(widest, 101, 200);
        // 100 columns unless $COLUMNS says otherwise (a developer's shell may export it).
        var width = Backprop.Cli.ExplainCommand.TerminalWidth();
        Assert.Equal(widest > width, auto.Stdout.Contains("The backward pass, from the outputs to the first layer", StringComparison.Ordinal));
        if (widest > width)
        {
            Assert.DoesNotContain(auto.Stdout.Split('\n'), l => l.Contains('│', StringComparison.Ordinal) && l.Length > width);
        }
    }

    [Fact]
    public void Gradcheck_lists_failures_first_and_names_the_relu_kink_behind_them()
    {
        // He starting values have zero biases, so at the input 0 both hidden ReLUs get exactly 0; the
        // observed 1 there makes the loss care. The finite difference straddles the kink; backprop takes 0.
        using var csv = new TempCsv("x,y\n0,1\n0.5,0\n1,1\n");

        var run = Run("gradcheck", "--data", csv.Path, "--layers", "1,2,1", "--activation", "relu", "--init", "he");
        var json = JsonDocument.Parse(Run("gradcheck", "--data", csv.Path, "--layers", "1,2,1", "--activation", "relu", "--init", "he", "--json").Stdout).RootElement;

        Assert.Equal(1, run.ExitCode);
        var table = run.Stdout.Split('\n').SkipWhile(l => !l.Contains("Parameter", StringComparison.Ordinal)).Skip(2).First();
        Assert.EndsWith("FAIL", table.TrimEnd(), StringComparison.Ordinal);
        // Every failing row before every passing one: the table's verdicts read FAIL… then ok….
        var verdicts = run.Stdout.Split('\n').SkipWhile(l => !l.Contains("Parameter", StringComparison.Ordinal)).Skip(2)
            .TakeWhile(l => l.Contains('│', StringComparison.Ordinal)).Select(l => l.TrimEnd().TrimEnd('│').TrimEnd().EndsWith("FAIL", StringComparison.Ordinal)).ToList();
        Assert.Equal(7, verdicts.Count);
        Assert.Contains(false, verdicts);
        Assert.Equal(verdicts.OrderByDescending(failed => failed), verdicts);
        Assert.Contains("sit at a ReLU kink: a ReLU input is exactly 0 there", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("the input of layer0 unit 0 is exactly 0 on row 1", run.Stdout, StringComparison.Ordinal);
        var kinks = json.GetProperty("reluKinks").EnumerateArray().ToList();
        Assert.NotEmpty(kinks);
        Assert.All(kinks, k => Assert.Equal(1, k.GetProperty("row").GetInt32()));
        Assert.Equal(json.GetProperty("failed").GetArrayLength(), kinks.Count);
        Assert.False(json.GetProperty("parameters")[0].GetProperty("relativeError").GetDouble() <= 1e-6);
    }
}
