using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;

using static Backprop.Cli.JsonOutput;

namespace Backprop.Cli;

/// <summary>Writes <c>backprop explain</c>'s transcript as text for people or as one JSON object.</summary>
internal sealed class ExplainReport(
    RunSpec spec, Sequential<double> network, int step, ChainRuleExplanation explanation, IReadOnlyDictionary<string, ParameterUpdate> updates,
    ForwardPassTable forward, Optimizer<double> optimizer, int width)
{
    private const int MaxPointRows = 20;

    public void WriteText(TextWriter stdout)
    {
        var e = explanation;
        var data = spec.Data.Train;
        var what = Lesson.IsLessonShaped(network) && spec.Network.Activation == Activation.SoftPlus ? "the lesson's network: " : "";
        stdout.WriteLine($"Step {step} of training {what}{network.Describe()}");
        stdout.WriteLine($"on {data.Name} ({data.Count} rows), {e.Loss} = {F(e.LossValue)} at the values before this step");
        stdout.WriteLine();
        WriteForward(stdout);
        if (e.View == ExplanationView.Recurrence)
        {
            WriteRecurrence(stdout);
        }
        foreach (var p in e.Parameters)
        {
            WriteParameter(stdout, p);
        }
        if (e.Shared.Count > 0)
        {
            stdout.WriteLine("Shared work: backprop computes each of these gradients once per data point and reuses it");
            stdout.WriteLine("for every parameter below it, instead of multiplying the same terms again for each one:");
            var all = network.Elements().Count();
            foreach (var shared in e.Shared)
            {
                var count = shared.Parameters.Count == all ? $" (all {all})" : "";
                stdout.WriteLine($"  {shared.Name} → {string.Join(", ", shared.Parameters)}{count}");
            }
        }
    }

    // The forward pass, so that each number the derivatives use can be followed from the input.
    private void WriteForward(TextWriter stdout)
    {
        var (header, rows) = ForwardRows();
        if (TextTable.Width(header, rows, MaxPointRows) > width)
        {
            stdout.WriteLine($"The forward pass computes {forward.Columns.Count} numbers per data point, too many to show side by side here (all of them are in --json).");
            stdout.WriteLine();
            return;
        }
        stdout.WriteLine("The forward pass at these values, data point by data point:");
        TextTable.Write(stdout, header, rows, MaxPointRows, "data points (all of them are in --json)");
        stdout.WriteLine();
    }

    private (List<string> Header, List<IReadOnlyList<string>> Rows) ForwardRows()
        => (["i", .. forward.Columns],
            [.. forward.Rows.Select((r, i) => (IReadOnlyList<string>)[(i + 1).ToString(CultureInfo.InvariantCulture), .. r.Select(F)])]);

    private (List<string> Header, List<IReadOnlyList<string>> Rows) PathRows(ChainRulePath path)
    {
        List<string> header = ["i", .. path.Terms.Select(t => t.Name), "product"];
        var rows = new List<IReadOnlyList<string>>();
        for (var i = 0; i < explanation.PointCount; i++)
        {
            rows.Add([(i + 1).ToString(CultureInfo.InvariantCulture), .. path.Terms.Select(t => F(t.Values[i])), F(path.Products[i])]);
        }
        return (header, rows);
    }

    /// <summary>The width of the widest table of path products this report would write (0 in the recurrence view).</summary>
    public int WidestPathTable()
        => explanation.View == ExplanationView.Recurrence ? 0
            : explanation.Parameters.SelectMany(p => p.Paths).Select(path => PathRows(path)).Select(t => TextTable.Width(t.Header, t.Rows, MaxPointRows)).DefaultIfEmpty(0).Max();

    private void WriteRecurrence(TextWriter stdout)
    {
        var e = explanation;
        stdout.WriteLine("The backward pass, from the outputs to the first layer: each unit's gradient is the sum, over");
        stdout.WriteLine("the units that use it, of their gradient × the local derivative.");
        stdout.WriteLine();
        foreach (var unit in e.Units)
        {
            stdout.WriteLine(unit.Equation);
            foreach (var local in unit.LocalFormulas)
            {
                stdout.WriteLine($"  where {local}");
            }
            foreach (var point in unit.Points.Take(MaxPointRows))
            {
                var sum = point.Terms.Count == 1 && point.Terms[0].Gradient == 1
                    ? ""
                    : string.Join(" + ", point.Terms.Select(t => $"{F(t.Gradient)} × {F(t.Local)}")) + " = ";
                stdout.WriteLine($"  i={point.Point}: {sum}{F(point.Gradient)}");
            }
            More(stdout, unit.Points.Count);
            stdout.WriteLine();
        }
    }

    private void WriteParameter(TextWriter stdout, ParameterDerivative p)
    {
        stdout.WriteLine(p.Equation);
        var formulas = p.Paths.SelectMany(path => path.Terms).Where(t => t.Formula.Length > 0).DistinctBy(t => t.Name).ToList();
        var width = formulas.Count == 0 ? 0 : formulas.Max(t => t.Name.Length);
        foreach (var t in formulas)
        {
            stdout.WriteLine($"  {t.Name.PadRight(width)} = {t.Formula}");
        }
        stdout.WriteLine();
        foreach (var path in p.Paths)
        {
            var (header, rows) = PathRows(path);
            TextTable.Write(stdout, header, rows, MaxPointRows, "data points (all of them are in --json)");
        }
        var perPoint = p.PerPoint.Take(MaxPointRows).Select(F).ToList();
        var shown = string.Join(" + ", perPoint) + (p.PerPoint.Count > MaxPointRows ? " + …" : "");
        stdout.WriteLine($"  d{explanation.Loss}/d{p.Parameter} = sum over i = {shown} = {F(p.Sum)}");
        stdout.WriteLine($"  Backpropagation computed d{explanation.Loss}/d{p.Parameter} = {F(p.Backprop)}: the sum equals it (the tensor engine agrees).");
        var u = updates[p.Parameter];
        if (!u.Trained)
        {
            stdout.WriteLine($"  {p.Parameter} is fixed (not trained): it stays {F(u.Old)}.");
        }
        else
        {
            foreach (var line in UpdateLines(p, u))
            {
                stdout.WriteLine($"  {line}");
            }
        }
        stdout.WriteLine();
    }

    /// <summary>The update rule's arithmetic for one number, with this step's numbers.</summary>
    private IEnumerable<string> UpdateLines(ParameterDerivative p, ParameterUpdate u)
    {
        var lr = optimizer.LearningRate;
        var g = p.Sum;
        var stepSize = u.Old - u.New;
        switch (optimizer)
        {
            case Momentum<double> momentum:
                var mu = momentum.MomentumFactor;
                yield return $"velocity v = momentum × old v + derivative = {F(mu)} × {Signed(u.Before("velocity"))} + {Signed(g)} = {F(u.After("velocity"))}";
                yield return $"step size = learning rate × v = {F(lr)} × {Signed(u.After("velocity"))} = {F(stepSize)}";
                break;
            case Adam<double> adam:
                var t = optimizer.StepCount;
                double m = u.After("m"), v = u.After("v");
                double c1 = 1 - Math.Pow(adam.Beta1, t), c2 = 1 - Math.Pow(adam.Beta2, t);
                double mHat = m / c1, vHat = v / c2;
                yield return $"Adam's step t = {t}: running averages m (of the derivative) and v (of its square), bias-corrected to m̂ and v̂";
                yield return $"m = β₁ × old m + (1 − β₁) × derivative = {F(adam.Beta1)} × {Signed(u.Before("m"))} + {F(1 - adam.Beta1)} × {Signed(g)} = {F(m)}";
                yield return $"v = β₂ × old v + (1 − β₂) × derivative² = {F(adam.Beta2)} × {F(u.Before("v"))} + {F(1 - adam.Beta2)} × {F(g * g)} = {F(v)}";
                yield return $"m̂ = m / (1 − β₁^t) = {Signed(m)} / {F(c1)} = {F(mHat)}";
                yield return $"v̂ = v / (1 − β₂^t) = {F(v)} / {F(c2)} = {F(vHat)}";
                yield return $"step size = learning rate × m̂ / (√v̂ + ε) = {F(lr)} × {Signed(mHat)} / ({F(Math.Sqrt(vHat))} + {F(adam.Epsilon)}) = {F(stepSize)}";
                break;
            default:
                yield return $"step size = learning rate × derivative = {F(lr)} × {Signed(g)} = {F(stepSize)}";
                break;
        }
        yield return $"new {p.Parameter} = old − step size = {F(u.Old)} − {Signed(stepSize)} = {F(u.New)}";
    }

    public void WriteJson(TextWriter stdout)
    {
        var e = explanation;
        JsonOutput.Write(stdout, json =>
        {
            json.WriteNumber("step", step);
            json.WriteString("loss", e.Loss);
            Number(json, "lossValue", e.LossValue);
            json.WriteNumber("points", e.PointCount);
            json.WriteString("view", e.View == ExplanationView.Paths ? "paths" : "recurrence");
            json.WriteString("optimizer", spec.Optimizer.CommandName());
            Number(json, "learningRate", optimizer.LearningRate);
            json.WriteStartObject("forward");
            Strings(json, "columns", forward.Columns);
            json.WriteStartArray("rows");
            foreach (var row in forward.Rows)
            {
                json.WriteStartArray();
                foreach (var v in row)
                {
                    Number(json, v);
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("units");
            foreach (var unit in e.Units)
            {
                json.WriteStartObject();
                json.WriteString("unit", unit.Unit);
                json.WriteString("equation", unit.Equation);
                Strings(json, "localDerivatives", unit.LocalFormulas);
                json.WriteStartArray("points");
                foreach (var point in unit.Points)
                {
                    json.WriteStartObject();
                    json.WriteNumber("i", point.Point);
                    json.WriteStartArray("terms");
                    foreach (var t in point.Terms)
                    {
                        json.WriteStartObject();
                        json.WriteString("consumer", t.Consumer);
                        Number(json, "gradient", t.Gradient);
                        Number(json, "local", t.Local);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    Number(json, "gradient", point.Gradient);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("parameters");
            foreach (var p in e.Parameters)
            {
                var u = updates[p.Parameter];
                json.WriteStartObject();
                json.WriteString("name", p.Parameter);
                Number(json, "value", p.Value);
                json.WriteString("equation", p.Equation);
                json.WriteStartArray("paths");
                foreach (var path in p.Paths)
                {
                    json.WriteStartObject();
                    json.WriteStartArray("terms");
                    foreach (var t in path.Terms)
                    {
                        json.WriteStartObject();
                        json.WriteString("name", t.Name);
                        json.WriteString("formula", t.Formula);
                        Numbers(json, "values", t.Values);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    Numbers(json, "products", path.Products);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                Numbers(json, "perPoint", p.PerPoint);
                Number(json, "sum", p.Sum);
                Number(json, "backprop", p.Backprop);
                json.WriteBoolean("trained", u.Trained);
                if (u.Trained)
                {
                    Number(json, "stepSize", u.Old - u.New);
                    foreach (var (kind, after) in u.StateAfter)
                    {
                        Number(json, kind, after);
                    }
                }
                Number(json, "newValue", u.New);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("shared");
            foreach (var shared in e.Shared)
            {
                json.WriteStartObject();
                json.WriteString("name", shared.Name);
                Strings(json, "parameters", shared.Parameters);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }, relaxed: true);
    }

    private static void More(TextWriter stdout, int count)
    {
        if (count > MaxPointRows)
        {
            stdout.WriteLine($"  … {count - MaxPointRows} more data points (all of them are in --json)");
        }
    }


    private static void Strings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteStringValue(v);
        }
        json.WriteEndArray();
    }

    private static string Signed(double x) => x < 0 ? $"({F(x)})" : F(x);

    private static string F(double value) => NumberText.Short(value);
}
