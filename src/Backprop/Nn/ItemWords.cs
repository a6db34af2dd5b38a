using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// The words of one <c>--net</c> item after its keyword, read left to right by a kind's
/// <see cref="LayerKind.Parse"/>: <c>128 relu</c> for <c>dense 128 relu</c>. Every mistake is one
/// <see cref="BackpropException"/> saying what is wrong and, where it helps, the item's syntax
/// (<c>KERNEL is missing; expected 'conv CHANNELS KERNEL …'</c>); the caller names the item.
/// </summary>
/// <param name="words">The words after the keyword.</param>
/// <param name="syntax">The item's syntax, for messages (<see cref="LayerKind.Syntax"/>).</param>
public sealed class ItemWords(IReadOnlyList<string> words, string syntax)
{
    private readonly IReadOnlyList<string> words = words ?? throw new ArgumentNullException(nameof(words));

    /// <summary>How many words have been read.</summary>
    public int Position { get; private set; }

    /// <summary>Whether every word has been read.</summary>
    public bool AtEnd => Position >= words.Count;

    /// <summary>The next word, not read yet, or null at the end.</summary>
    public string? Peek => AtEnd ? null : words[Position];

    /// <summary>A message: <paramref name="why"/>, then the item's syntax.</summary>
    public BackpropException Expected(string why) => new($"{why}; expected '{syntax}'");

    /// <summary>Reads a required positive whole number called <paramref name="name"/> (<c>UNITS</c>).</summary>
    /// <exception cref="BackpropException">It is missing or not a positive whole number.</exception>
    public int Positive(string name)
        => AtEnd ? throw Expected($"{name} is missing") : Whole(words[Position++], name, 1);

    /// <summary>Reads a required number called <paramref name="name"/> (<c>P</c>).</summary>
    /// <exception cref="BackpropException">It is missing or not a finite number.</exception>
    public double Number(string name)
        => AtEnd ? throw Expected($"{name} is missing") : Real(words[Position++], name);

    /// <summary>
    /// When the next word is <paramref name="keyword"/> (any case), reads it and the whole number of at
    /// least <paramref name="min"/> after it (<c>stride 2</c>); otherwise reads nothing and returns null.
    /// </summary>
    /// <exception cref="BackpropException">The keyword has no number after it, or the number is not a whole number of at least <paramref name="min"/>.</exception>
    public int? Option(string keyword, int min)
        => Is(keyword) ? Whole(After(keyword), keyword, min) : null;

    /// <summary>As <see cref="Option(string, int)"/>, for a number that need not be whole (<c>momentum 0.2</c>).</summary>
    /// <exception cref="BackpropException">The keyword has no number after it, or it is not a finite number.</exception>
    public double? RealOption(string keyword)
        => Is(keyword) ? Real(After(keyword), keyword) : null;

    /// <summary>When the next word is <paramref name="flag"/> (any case), reads it and returns true.</summary>
    public bool Flag(string flag)
    {
        if (!Is(flag))
        {
            return false;
        }
        Position++;
        return true;
    }

    /// <summary>When the next word names a registered activation (any case), reads it and returns it; otherwise null.</summary>
    public Activation? Activation()
    {
        var activation = AtEnd ? null : LayerRegistry.Activations.FirstOrDefault(a => a.Name.Equals(words[Position], StringComparison.OrdinalIgnoreCase));
        if (activation is not null)
        {
            Position++;
        }
        return activation;
    }

    /// <summary>Reads an optional last activation (<c>dense UNITS [ACTIVATION]</c>): identity when there are no more words.</summary>
    /// <exception cref="BackpropException">The next word is not an activation.</exception>
    public Activation ActivationOrIdentity()
        => AtEnd ? Nn.Activation.Identity
            : Activation() ?? throw new BackpropException($"'{words[Position]}' is not an activation; the activations are {string.Join(", ", LayerRegistry.Activations.Select(a => a.Name))}");

    /// <summary>Checks that every word has been read.</summary>
    /// <exception cref="BackpropException">A word is left over.</exception>
    public void End()
    {
        if (!AtEnd)
        {
            throw Expected($"'{words[Position]}' is one word too many");
        }
    }

    private bool Is(string word) => !AtEnd && words[Position].Equals(word, StringComparison.OrdinalIgnoreCase);

    private string After(string keyword)
    {
        Position++;
        return AtEnd ? throw Expected($"{keyword} needs a number after it") : words[Position++];
    }

    private static int Whole(string word, string name, int min)
        => int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new BackpropException($"{name} must be a {(min > 0 ? "positive" : "non-negative")} whole number, not '{word}'");

    private static double Real(string word, string name)
        => double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new BackpropException($"{name} must be a number, not '{word}'");
}
