using System.Globalization;
using System.Text.Json;
using Backprop.Diagnostics;

using static Backprop.Cli.JsonOutput;

namespace Backprop.Cli;

/// <summary>Writes what <c>train --monitor</c> saw: warnings, gradient norms at some steps, and a summary table.</summary>
internal static class GradientHealthReport
{
    private const int SampledSteps = 10;

    public static void WriteText<T>(TextWriter stdout, GradientHealthMonitor<T> health) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        stdout.WriteLine($"Gradient health ({(health.PerNumber ? "per parameter" : "per layer")}, {health.Steps} steps)");
        if (health.Warnings.Count == 0)
        {
            stdout.WriteLine("  No warnings: no vanishing or exploding gradients, no dead ReLU layers, nothing NaN or infinite.");
        }
        foreach (var w in health.Warnings)
        {
            stdout.WriteLine($"  warning: {w.Message}");
        }
        stdout.WriteLine();
        if (health.Steps > 0)
        {
            stdout.WriteLine(health.RecordedSteps.Count == health.Steps
                ? "Gradient norm by step (all steps are in --json):"
                : $"Gradient norm by step (--json has {health.RecordedSteps.Count} of the {health.Steps} steps: every {health.RecordedSteps[1] - health.RecordedSteps[0]}th and the last):");
            var steps = SampleSteps(health.RecordedSteps);
            TextTable.Write(stdout, ["Step", .. health.Groups],
                [.. steps.Select(s => (IReadOnlyList<string>)[s.ToString(CultureInfo.InvariantCulture), .. health.NormsAt(s).Select(G)])]);
            stdout.WriteLine();
        }
        stdout.WriteLine("Summary:");
        TextTable.Write(stdout, ["Group", "First norm", "Last norm", "Min", "Max", "Vanishing steps", "Warnings"],
            [.. health.Summary().Select(g => (IReadOnlyList<string>)[g.Name, G(g.First), G(g.Last), G(g.Min), G(g.Max), g.VanishingSteps.ToString(CultureInfo.InvariantCulture), g.Warnings.Count == 0 ? "none" : string.Join(", ", g.Warnings.Select(Kind))])]);
        foreach (var r in health.DeadRelus)
        {
            stdout.WriteLine($"  ReLU {r.Name}: {r.Last:P0} of {r.Units} units dead at the last step (at most {r.Max:P0})");
        }
    }

    public static void WriteJson<T>(Utf8JsonWriter json, GradientHealthMonitor<T> health) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        json.WriteStartObject();
        json.WriteStartArray("groups");
        foreach (var g in health.Groups)
        {
            json.WriteStringValue(g);
        }
        json.WriteEndArray();
        json.WriteStartArray("steps");
        foreach (var s in health.RecordedSteps)
        {
            json.WriteNumberValue(s);
        }
        json.WriteEndArray();
        json.WriteStartArray("norms");
        foreach (var s in health.RecordedSteps)
        {
            json.WriteStartArray();
            foreach (var n in health.NormsAt(s))
            {
                Number(json, n);
            }
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("warnings");
        foreach (var w in health.Warnings)
        {
            json.WriteStartObject();
            json.WriteNumber("step", w.Step);
            json.WriteString("kind", Kind(w.Kind));
            json.WriteString("group", w.Group);
            json.WriteString("message", w.Message);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("summary");
        foreach (var g in health.Summary())
        {
            json.WriteStartObject();
            json.WriteString("group", g.Name);
            json.WritePropertyName("first");
            Number(json, g.First);
            json.WritePropertyName("last");
            Number(json, g.Last);
            json.WritePropertyName("min");
            Number(json, g.Min);
            json.WritePropertyName("max");
            Number(json, g.Max);
            json.WriteNumber("vanishingSteps", g.VanishingSteps);
            json.WriteStartArray("warnings");
            foreach (var k in g.Warnings)
            {
                json.WriteStringValue(Kind(k));
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("deadRelu");
        foreach (var r in health.DeadRelus)
        {
            json.WriteStartObject();
            json.WriteString("layer", r.Name);
            json.WriteNumber("units", r.Units);
            json.WriteNumber("last", r.Last);
            json.WriteNumber("max", r.Max);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    // The first step, the last, and evenly spaced steps between.
    // About SampledSteps of the recorded steps, evenly spread, the first and the last included.
    private static List<int> SampleSteps(IReadOnlyList<int> recorded)
        => [.. Enumerable.Range(0, SampledSteps).Select(k => recorded[(int)Math.Round((recorded.Count - 1) * (double)k / (SampledSteps - 1))]).Distinct()];

    private static string Kind(GradientWarningKind kind) => kind switch
    {
        GradientWarningKind.Vanishing => "vanishing",
        GradientWarningKind.Exploding => "exploding",
        GradientWarningKind.DeadRelu => "deadRelu",
        _ => "nonFinite",
    };

    private static string G(double x) => x.ToString("G3", CultureInfo.InvariantCulture);
}
