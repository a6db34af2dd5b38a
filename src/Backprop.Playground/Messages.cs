using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Backprop.Playground;

/// <summary>Reading a tab's JSON messages: every missing or malformed field is a <see cref="BackpropException"/> for that tab.</summary>
internal static class Messages
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, Json);

    public static string Text(JsonObject message, string field, string? fallback = null)
    {
        if (message[field] is JsonValue v && v.TryGetValue<string>(out var s))
        {
            return s;
        }
        return fallback ?? throw new BackpropException($"The message needs a text field '{field}'.");
    }

    public static double Number(JsonObject message, string field, double? fallback = null)
    {
        if (message[field] is JsonValue v)
        {
            if (v.TryGetValue<double>(out var d))
            {
                return d;
            }
            if (v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d))
            {
                return d;
            }
        }
        else if (message[field] is null && fallback is { } f)
        {
            return f;
        }
        throw new BackpropException($"The message needs a number in '{field}'.");
    }

    public static int Integer(JsonObject message, string field, int min, int max, int? fallback = null)
    {
        var d = message[field] is null && fallback is { } f ? f : Number(message, field);
        if (d != Math.Floor(d) || d < min || d > max)
        {
            throw new BackpropException($"'{field}' must be a whole number from {min} to {max}.");
        }
        return (int)d;
    }

    public static Dictionary<string, double> Numbers(JsonObject message, string field)
    {
        if (message[field] is not JsonObject o)
        {
            throw new BackpropException($"The message needs an object of numbers in '{field}'.");
        }
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, _) in o)
        {
            result[name] = Number(o, name);
        }
        return result;
    }

    public static List<string> Names(JsonObject message, string field)
    {
        if (message[field] is not JsonArray a || a.Count > 1000)
        {
            throw new BackpropException($"The message needs a list of names in '{field}'.");
        }
        return [.. a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new BackpropException($"'{field}' must hold names."))];
    }

    public static (double Low, double High) Range(JsonObject message, string field)
    {
        if (message[field] is not JsonArray { Count: 2 } a || a[0] is not JsonValue low || a[1] is not JsonValue high
            || !low.TryGetValue<double>(out var l) || !high.TryGetValue<double>(out var h))
        {
            throw new BackpropException($"'{field}' must be two numbers, low and high.");
        }
        return (l, h);
    }
}
