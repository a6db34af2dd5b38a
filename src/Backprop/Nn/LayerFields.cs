using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// The settings of one layer as named values, in order: what a <see cref="LayerKind"/> writes into a
/// model file, reads back from one, and makes from a <c>--net</c> item (e.g. <c>outputs</c> = 128,
/// <c>activation</c> = <c>relu</c> for a dense layer). Values are whole numbers, numbers, text,
/// true/false or lists of whole numbers.
/// </summary>
/// <remarks>
/// The readers (<see cref="Int(string)"/>, <see cref="Text"/>, …) throw a <see cref="BackpropException"/> that
/// names the field; the caller (model file reader, <c>--net</c> parser) says which layer it was.
/// </remarks>
public sealed class LayerFields
{
    private readonly List<KeyValuePair<string, object>> values = [];

    /// <summary>The fields in the order they were added.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Values => values;

    /// <summary>Adds a whole number.</summary>
    public LayerFields Add(string name, int value) => Put(name, value);

    /// <summary>Adds a number.</summary>
    public LayerFields Add(string name, double value) => Put(name, value);

    /// <summary>Adds text.</summary>
    public LayerFields Add(string name, string value) => Put(name, value);

    /// <summary>Adds true or false.</summary>
    public LayerFields Add(string name, bool value) => Put(name, value);

    /// <summary>Adds a list of whole numbers.</summary>
    public LayerFields Add(string name, int[] value) => Put(name, value.ToArray());

    /// <summary>Whether a field of that name is present.</summary>
    public bool Has(string name) => Find(name) is not null;

    /// <summary>A whole number field.</summary>
    /// <exception cref="BackpropException">It is missing or not a whole number.</exception>
    public int Int(string name) => Find(name) is int i ? i : throw Missing(name, "a whole number");

    /// <summary>A whole number field, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="BackpropException">It is present but not a whole number.</exception>
    public int Int(string name, int fallback) => Has(name) ? Int(name) : fallback;

    /// <summary>A whole number field of at least <paramref name="minimum"/>.</summary>
    /// <exception cref="BackpropException">It is missing, not a whole number or too small.</exception>
    public int Int(string name, int fallback, int minimum)
    {
        var value = Int(name, fallback);
        return value >= minimum ? value : throw new BackpropException($"\"{name}\" must be at least {minimum}; it is {value}");
    }

    /// <summary>A positive whole number field.</summary>
    /// <exception cref="BackpropException">It is missing, not a whole number or not positive.</exception>
    public int PositiveInt(string name)
    {
        var value = Int(name);
        return value > 0 ? value : throw new BackpropException($"\"{name}\" must be a positive whole number; it is {value}");
    }

    /// <summary>A number field (a whole number is read as a number too).</summary>
    /// <exception cref="BackpropException">It is missing or not a finite number.</exception>
    public double Double(string name) => Find(name) switch
    {
        double d when double.IsFinite(d) => d,
        int i => i,
        _ => throw Missing(name, "a finite number"),
    };

    /// <summary>A number field, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="BackpropException">It is present but not a finite number.</exception>
    public double Double(string name, double fallback) => Has(name) ? Double(name) : fallback;

    /// <summary>A text field.</summary>
    /// <exception cref="BackpropException">It is missing or not text.</exception>
    public string Text(string name) => Find(name) as string ?? throw Missing(name, "text");

    /// <summary>A true/false field, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="BackpropException">It is present but not true or false.</exception>
    public bool Bool(string name, bool fallback) => Find(name) switch
    {
        null => fallback,
        bool b => b,
        _ => throw Missing(name, "true or false"),
    };

    /// <summary>A list of whole numbers.</summary>
    /// <exception cref="BackpropException">It is missing or not a list of whole numbers.</exception>
    public int[] Ints(string name) => Find(name) is int[] list ? [.. list] : throw Missing(name, "a list of whole numbers");

    /// <summary>A copy, to change without changing these.</summary>
    public LayerFields Copy()
    {
        var copy = new LayerFields();
        copy.values.AddRange(values);
        return copy;
    }

    /// <summary>The fields as <c>name=value</c> pairs, e.g. <c>outputs=2, activation=softplus</c>.</summary>
    public override string ToString() => string.Join(", ", values.Select(v => $"{v.Key}={Format(v.Value)}"));

    private static string Format(object value) => value switch
    {
        int[] list => "[" + string.Join(", ", list) + "]",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private LayerFields Put(string name, object value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        var index = values.FindIndex(v => v.Key == name);
        if (index >= 0)
        {
            values[index] = new(name, value);
        }
        else
        {
            values.Add(new(name, value));
        }
        return this;
    }

    private object? Find(string name)
    {
        foreach (var (key, value) in values)
        {
            if (key == name)
            {
                return value;
            }
        }
        return null;
    }

    private static BackpropException Missing(string name, string what) => new($"\"{name}\" must be {what}");
}
