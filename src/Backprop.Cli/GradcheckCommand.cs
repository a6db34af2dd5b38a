using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;

using static Backprop.Cli.JsonOutput;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop gradcheck</c>: every parameter's gradient by backpropagation against central finite
/// differences in double, and the scalar engine against the tensor engine. Exit code 1 when any
/// relative error is above the tolerance.
/// </summary>
internal sealed class GradcheckCommand(TextWriter stdout)
{
    /// <summary>Exit code when a gradient is wrong.</summary>
    public const int Failed = 1;

    // The scalar engine builds one node per number per row: beyond this it would take too long to be useful.
    internal const int MaxScalarNodes = 2_000_000;

    // Two forward passes per parameter, each about parameters × rows multiply-adds: beyond this, many minutes.
    private const double MaxFiniteDifferenceWork = 1e10;

    private const int MaxRows = 40;

    /// <summary>The most numbers of one parameter that gradcheck checks on a --net network (a seeded sample of larger ones).</summary>
    internal const int SamplePerParameter = 16;

    /// <summary>A sampled check: at most <paramref name="PerParameter"/> numbers of each parameter, drawn with <paramref name="Seed"/>.</summary>
    private sealed record Sampled(int PerParameter, ulong Seed, int Checked, int Total);

    private readonly RunOptions options = new();
    private readonly Option<double> tolerance = new("--tolerance") { Description = "Fail (exit code 1) when any relative error is above this", DefaultValueFactory = _ => 1e-6, HelpName = "ERROR", CustomParser = r => RunOptions.ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<double> epsilon = new("--epsilon") { Description = "The finite-difference step h: (f(x + h) − f(x − h)) / 2h", DefaultValueFactory = _ => 1e-6, HelpName = "H", CustomParser = r => RunOptions.ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object and nothing else" };

    public Command Create()
    {
        var command = new Command("gradcheck", "Check every gradient: backpropagation against finite differences, and the scalar engine against the tensor engine (exit code 1 on a mismatch).");
        options.AddNetworkOptions(command);
        options.AddDataChoiceOptions(command);
        foreach (Option option in (Option[])[tolerance, epsilon, json])
        {
            command.Options.Add(option);
        }
        command.SetAction(Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        var spec = options.Read(parsed, training: false);
        var data = spec.Data.Train;
        var tol = parsed.GetValue(tolerance);
        if (!(tol >= 0) || !double.IsFinite(tol))
        {
            throw new BackpropException($"--tolerance must be a number ≥ 0; got {tol.ToString(CultureInfo.InvariantCulture)}.");
        }
        var h = parsed.GetValue(epsilon);
        if (!(h > 0) || !double.IsFinite(h))
        {
            throw new BackpropException($"--epsilon must be a positive number; got {h.ToString(CultureInfo.InvariantCulture)}.");
        }
        var network = spec.Network.Build<double>();
        var parameters = (double)network.ParameterCount();
        // A --net network checks a seeded sample of each large parameter; --layers checks every number.
        int? sample = spec.Network.Net is not null && network.Parameters().Any(p => p.Length > SamplePerParameter) ? SamplePerParameter : null;
        var checkedCount = sample is { } k ? network.Parameters().Sum(p => Math.Min(p.Length, k)) : parameters;
        if (checkedCount * parameters * data.Count > MaxFiniteDifferenceWork)
        {
            throw new BackpropException(string.Create(CultureInfo.InvariantCulture,
                $"gradcheck runs the network twice per parameter{(sample is null ? "" : " checked")}; with {checkedCount} checked of {parameters} parameters and {data.Count} rows that is about {checkedCount * parameters * data.Count:G2} multiply-adds, too long (at most {MaxFiniteDifferenceWork:G2}); choose a smaller network{(sample is null ? " with --layers" : "")} or fewer rows with --limit."));
        }
        var inputs = spec.Network.AsExamples(data.InputTensor<double>());
        return Run(stdout, network, spec.Loss, inputs, data.TargetTensor<double>(), tol, h, parsed.GetValue(json), Lesson.IsLessonShaped(network) ? Lesson.ParameterNames : null, sample, parsed.GetValue<ulong>("--seed"));
    }

    /// <summary>
    /// Checks <paramref name="model"/> and writes the report; returns 0 when every relative error is
    /// within <paramref name="tolerance"/>, else <see cref="Failed"/>.
    /// </summary>
    public static int Run(
        TextWriter stdout, Module<double> model, Loss loss, Tensor<double> inputs, Tensor<double> targets,
        double tolerance, double step, bool asJson, IReadOnlyList<string>? order = null, int? sample = null, ulong seed = 1)
    {
        var rows = (sample is { } k ? GradientCheck.Check(model, loss, inputs, targets, k, seed, step) : GradientCheck.Check(model, loss, inputs, targets, step)).ToList();
        var sampled = sample is null ? null : new Sampled(sample.Value, seed, rows.Count, model.ParameterCount());
        IReadOnlyList<EngineComparison>? engines = null;
        var why = "";
        if (model is Sequential<double> network && network.Layers.All(l => l is Dense<double>)
            && (long)model.ParameterCount() * inputs.Shape.Rows <= MaxScalarNodes)
        {
            engines = GradientCheck.CompareEngines(network, loss, inputs, targets);
        }
        else
        {
            why = model is Sequential<double> s && s.Layers.All(l => l is Dense<double>)
                ? "the network is too large for the scalar engine"
                : "the scalar engine builds networks of Dense layers only";
        }
        if (order is not null)
        {
            rows = [.. rows.OrderBy(r => IndexOf(order, r.Name))];
            engines = engines?.OrderBy(r => IndexOf(order, r.Name)).ToList();
        }
        var failed = rows.Where(r => !(r.RelativeError <= tolerance)).Select(r => r.Name)
            .Concat(engines?.Where(r => !(r.RelativeError <= tolerance)).Select(r => r.Name) ?? [])
            .Distinct().ToList();
        // Failing rows first (the order otherwise kept), so that they are never among the rows cut off.
        rows = [.. rows.OrderBy(r => r.RelativeError <= tolerance)];
        engines = engines?.OrderBy(r => r.RelativeError <= tolerance).ToList();
        var kinks = KinksBehind(model, inputs, failed);
        if (asJson)
        {
            WriteJson(stdout, rows, engines, tolerance, step, failed, kinks, sampled);
        }
        else
        {
            WriteText(stdout, model, rows, engines, why, tolerance, step, failed, kinks, sampled);
        }
        return failed.Count == 0 ? BackpropCli.Success : Failed;
    }

    /// <summary>The failing numbers that have a ReLU at its kink (an input of exactly 0) downstream, with that kink.</summary>
    private static List<(string Name, ReluKink Kink)> KinksBehind(Module<double> model, Tensor<double> inputs, List<string> failed)
    {
        if (failed.Count == 0 || model is not Sequential<double> network)
        {
            return [];
        }
        var kinks = ReluKinks.Find(network, inputs);
        return [.. failed.Select(name => (name, ReluKinks.Upstream(network, kinks, model.Element(name))))
            .Where(k => k.Item2 is not null).Select(k => (k.name, k.Item2!.Value))];
    }

    private static int IndexOf(IReadOnlyList<string> order, string name)
    {
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i] == name)
            {
                return i;
            }
        }
        return order.Count;
    }

    private static void WriteText(
        TextWriter stdout, Module<double> model, List<GradientComparison> rows, IReadOnlyList<EngineComparison>? engines, string why,
        double tolerance, double step, List<string> failed, List<(string Name, ReluKink Kink)> kinks, Sampled? sampled)
    {
        stdout.WriteLine($"Gradient check of {model.Describe()}: backpropagation against central finite differences (h = {G(step)})");
        if (sampled is { } s)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"A seeded sample (--seed {s.Seed}): {s.PerParameter} numbers of each parameter with more, every number of the others; {s.Checked:N0} of the network's {s.Total:N0} numbers."));
        }
        stdout.WriteLine();
        TextTable.Write(
            stdout, ["Parameter", "Backprop", "Numerical", "Relative error", ""],
            [.. rows.Select(r => (IReadOnlyList<string>)[r.Name, G(r.Backprop), G(r.Numerical), E(r.RelativeError), Verdict(r.RelativeError, tolerance)])],
            MaxRows, "parameters (all of them are in --json)");
        stdout.WriteLine();
        if (engines is null)
        {
            stdout.WriteLine($"Scalar engine not compared: {why}.");
        }
        else
        {
            stdout.WriteLine("The scalar engine (one named number per node) against the tensor engine:");
            TextTable.Write(
                stdout, ["Parameter", "Tensor engine", "Scalar engine", "Relative error", ""],
                [.. engines.Select(r => (IReadOnlyList<string>)[r.Name, G(r.Tensor), G(r.Scalar), E(r.RelativeError), Verdict(r.RelativeError, tolerance)])],
                MaxRows, "parameters (all of them are in --json)");
        }
        stdout.WriteLine();
        var worst = rows.Select(r => r.RelativeError).Concat(engines?.Select(r => r.RelativeError) ?? []).DefaultIfEmpty(0).Max();
        if (failed.Count == 0)
        {
            stdout.WriteLine($"Passed: all {rows.Count} gradients agree within the tolerance {G(tolerance)} (largest relative error {E(worst)}).");
        }
        else
        {
            stdout.WriteLine($"FAILED: {failed.Count} of {rows.Count} gradients differ by more than the tolerance {G(tolerance)}: {string.Join(", ", failed.Take(10))}{(failed.Count > 10 ? ", …" : "")}.");
            if (kinks.Count > 0)
            {
                stdout.WriteLine();
                stdout.WriteLine($"{kinks.Count} of these sit at a ReLU kink: a ReLU input is exactly 0 there, where the derivative jumps from 0 to 1.");
                stdout.WriteLine("Backprop takes ReLU′(0) = 0, while the finite difference straddles the kink; no derivative rule is wrong:");
                foreach (var (name, k) in kinks.Take(10))
                {
                    stdout.WriteLine($"  {name}: the input of layer{k.Layer} unit {k.Unit} is exactly 0 on row {k.Row + 1}");
                }
                if (kinks.Count > 10)
                {
                    stdout.WriteLine($"  … {kinks.Count - 10} more (all of them are in --json)");
                }
            }
        }
    }

    private static void WriteJson(
        TextWriter stdout, List<GradientComparison> rows, IReadOnlyList<EngineComparison>? engines, double tolerance, double step, List<string> failed,
        List<(string Name, ReluKink Kink)> kinks, Sampled? sampled)
    {
        JsonOutput.Write(stdout, json =>
        {
            json.WriteBoolean("passed", failed.Count == 0);
            json.WriteNumber("tolerance", tolerance);
            json.WriteNumber("epsilon", step);
            json.WriteStartArray("parameters");
            foreach (var r in rows)
            {
                json.WriteStartObject();
                json.WriteString("name", r.Name);
                Number(json, "backprop", r.Backprop);
                Number(json, "numerical", r.Numerical);
                Number(json, "relativeError", r.RelativeError);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (engines is null)
            {
                json.WriteNull("engines");
            }
            else
            {
                json.WriteStartArray("engines");
                foreach (var r in engines)
                {
                    json.WriteStartObject();
                    json.WriteString("name", r.Name);
                    Number(json, "tensor", r.Tensor);
                    Number(json, "scalar", r.Scalar);
                    Number(json, "relativeError", r.RelativeError);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteStartArray("failed");
            foreach (var name in failed)
            {
                json.WriteStringValue(name);
            }
            json.WriteEndArray();
            if (sampled is { } s)
            {
                // Only on a sampled check: which numbers were checked, and of how many.
                json.WriteStartObject("sample");
                json.WriteNumber("perParameter", s.PerParameter);
                json.WriteString("seed", s.Seed.ToString(CultureInfo.InvariantCulture));
                json.WriteNumber("checked", s.Checked);
                json.WriteNumber("total", s.Total);
                json.WriteEndObject();
            }
            json.WriteStartArray("reluKinks");
            foreach (var (name, k) in kinks)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteNumber("layer", k.Layer);
                json.WriteNumber("unit", k.Unit);
                json.WriteNumber("row", k.Row + 1);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        });
    }

    private static string Verdict(double error, double tolerance) => error <= tolerance ? "ok" : "FAIL";

    private static string G(double x) => NumberText.Short(x);

    private static string E(double x) => x.ToString("0.0e+00", CultureInfo.InvariantCulture);
}
