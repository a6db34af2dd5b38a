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
internal sealed class ExplainReport(RunSpec spec, Sequential<double> network, int step, ChainRuleExplanation explanation, IReadOnlyDictionary<string, ParameterUpdate> updates)
{
    private const int MaxPointRows = 20;

    private bool GradientDescent => spec.Optimizer == OptimizerKind.GradientDescent;

    public void WriteText(TextWriter stdout)
    {
        var e = explanation;
        var data = spec.Data.Train;
        var what = Lesson.IsLessonShaped(network) && spec.Network.Activation == Activation.SoftPlus ? "the lesson's network: " : "";
        stdout.WriteLine($"Step {step} of training {what}{network.Describe()}");
        stdout.WriteLine($"on {data.Name} ({data.Count} rows), {e.Loss} = {F(e.LossValue)} at the values before this step");
        stdout.WriteLine();
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
            List<string> header = ["i", .. path.Terms.Select(t => t.Name), "product"];
            var rows = new List<IReadOnlyList<string>>();
            for (var i = 0; i < explanation.PointCount; i++)
            {
                rows.Add([(i + 1).ToString(CultureInfo.InvariantCulture), .. path.Terms.Select(t => F(t.Values[i])), F(path.Products[i])]);
            }
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
        else if (GradientDescent)
        {
            var stepSize = spec.LearningRate * p.Sum;
            stdout.WriteLine($"  step size = learning rate × derivative = {F(spec.LearningRate)} × {F(p.Sum)} = {F(stepSize)}");
            stdout.WriteLine($"  new {p.Parameter} = old − step size = {F(u.Old)} − {Signed(stepSize)} = {F(u.New)}");
        }
        else
        {
            stdout.WriteLine($"  {OptimizerName()} changes {p.Parameter} by {F(u.New - u.Old)} (its own rule, not learning rate × derivative): new {p.Parameter} = {F(u.New)}");
        }
        stdout.WriteLine();
    }

    public void WriteJson(TextWriter stdout)
    {
        var e = explanation;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("step", step);
            json.WriteString("loss", e.Loss);
            Number(json, "lossValue", e.LossValue);
            json.WriteNumber("points", e.PointCount);
            json.WriteString("view", e.View == ExplanationView.Paths ? "paths" : "recurrence");
            json.WriteString("optimizer", spec.Optimizer.CommandName());
            Number(json, "learningRate", spec.LearningRate);
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
                if (u.Trained && GradientDescent)
                {
                    Number(json, "stepSize", spec.LearningRate * p.Sum);
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
            json.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void More(TextWriter stdout, int count)
    {
        if (count > MaxPointRows)
        {
            stdout.WriteLine($"  … {count - MaxPointRows} more data points (all of them are in --json)");
        }
    }

    // At the start of a sentence: "Momentum changes …", "Adam changes …".
    private string OptimizerName() => string.Concat(spec.Optimizer.DisplayName()[..1].ToUpperInvariant(), spec.Optimizer.DisplayName()[1..]);

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
