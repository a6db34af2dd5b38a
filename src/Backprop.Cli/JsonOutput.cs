using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Backprop.Cli;

/// <summary>How every command writes JSON: one indented object, numbers that JSON cannot hold as null.</summary>
internal static class JsonOutput
{
    /// <summary>Writes one indented JSON object built by <paramref name="write"/>, then a line break.</summary>
    /// <param name="stdout">Where to write.</param>
    /// <param name="write">Writes the object's properties.</param>
    /// <param name="relaxed">Leave non-ASCII text (formulas such as dSSR/dw1 = Σ …) unescaped.</param>
    public static void Write(TextWriter stdout, Action<Utf8JsonWriter> write, bool relaxed = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = relaxed ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : null }))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>A number value, or null when it is absent, NaN or infinite (JSON has no NaN or infinity).</summary>
    public static void Number(Utf8JsonWriter json, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            json.WriteNumberValue(v);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    /// <summary>A named number, or null when it is absent, NaN or infinite.</summary>
    public static void Number(Utf8JsonWriter json, string name, double? value)
    {
        json.WritePropertyName(name);
        Number(json, value);
    }

    /// <summary>A named array of numbers, each null when NaN or infinite.</summary>
    public static void Numbers(Utf8JsonWriter json, string name, IEnumerable<double> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            Number(json, v);
        }
        json.WriteEndArray();
    }
}
