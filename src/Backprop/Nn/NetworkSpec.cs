using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>One item of a network description: <c>conv 32 3 pad 1</c> is keyword <c>conv</c> and words <c>32 3 pad 1</c>.</summary>
/// <param name="Number">The item's position in the description, from 1.</param>
/// <param name="Keyword">The layer's keyword, lower case (<c>dense</c>, <c>conv</c>, <c>relu</c>, …).</param>
/// <param name="Words">The words after the keyword.</param>
public sealed record NetworkItem(int Number, string Keyword, IReadOnlyList<string> Words)
{
    /// <summary>The item as written (keyword and words, one space apart).</summary>
    public string Text => Words.Count == 0 ? Keyword : Keyword + " " + string.Join(' ', Words);

    /// <summary>How messages name the item: <c>--net item 3 (maxpool 2)</c>.</summary>
    internal string Where => $"--net item {Number} ({Text})";
}

/// <summary>
/// A network written as a readable list of layers, the command's <c>--net</c>:
/// <c>conv 32 3 pad 1, relu, maxpool 2, conv 64 3 pad 1, relu, maxpool 2, flatten, dense 128 relu, dense 10</c>.
/// Items are separated by commas; an item is a keyword followed by its words, separated by spaces.
/// </summary>
/// <remarks>
/// <para>
/// The items are the registered layer kinds' (<see cref="LayerRegistry"/>): each kind declares its
/// keywords (<see cref="LayerKind.Keywords"/>), syntax and how it reads its words
/// (<see cref="LayerKind.Parse"/>), so a newly registered kind is an item with no change here.
/// <see cref="Syntax"/> lists them; today <c>dense UNITS [ACTIVATION]</c>,
/// <c>conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]</c>, <c>maxpool K [stride S]</c>,
/// <c>avgpool K [stride S]</c>, <c>globalavgpool</c>, <c>flatten</c>, <c>dropout P</c>,
/// <c>batchnorm [momentum M] [eps E]</c> (BatchNorm1d on rows, BatchNorm2d on images: kinds that share a
/// keyword are told apart by the rank of the input they take) and each activation.
/// </para>
/// <para>
/// An activation right after a layer that can fuse one (<see cref="LayerKind.FuseActivation"/>: dense
/// and conv without an activation of their own) is fused into it, so <c>dense 8, relu</c> and
/// <c>dense 8 relu</c> build the same network. Each layer's sizes follow from the input shape one example
/// has (<c>[features]</c> for rows, <c>[channels, height, width]</c> for images), given to
/// <see cref="Build{T}"/>. Every problem is one <see cref="BackpropException"/> naming the item
/// (<c>--net item 3 (maxpool x): …</c>).
/// </para>
/// </remarks>
public sealed class NetworkSpec
{
    private NetworkSpec(IReadOnlyList<NetworkItem> items) => Items = items;

    /// <summary>The items, in order.</summary>
    public IReadOnlyList<NetworkItem> Items { get; }

    /// <summary>
    /// Every item's syntax and what it does, one per keyword in registry order, for help text (kinds
    /// that share a keyword give one line, their descriptions joined).
    /// </summary>
    public static IReadOnlyList<(string Syntax, string Description)> Syntax =>
        [.. LayerRegistry.Keywords.Select(LayerRegistry.WithKeyword).Select(kinds => (kinds[0].Syntax, string.Join("; ", kinds.Select(k => Described(k, kinds.Count > 1)))))];

    /// <summary>Whether the first layer takes images only (conv or pooling): the data is then given as [N, C, H, W].</summary>
    public bool TakesImages => LayerRegistry.WithKeyword(Items[0].Keyword).All(k => k.InputRank == 3);

    /// <summary>
    /// The network of a multilayer perceptron (the command's <c>--layers</c> and <c>--activation</c>):
    /// a dense layer per size after the first, <paramref name="hidden"/> on all but the last.
    /// </summary>
    /// <exception cref="BackpropException">Fewer than two sizes, or a size that is not positive.</exception>
    public static NetworkSpec Mlp(IReadOnlyList<int> sizes, Activation hidden)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(hidden);
        if (sizes.Count < 2 || sizes.Any(s => s <= 0))
        {
            throw new BackpropException($"A network needs at least an input size and an output size, all positive; got {string.Join(",", sizes)}.");
        }
        var items = new List<string>();
        for (var i = 1; i < sizes.Count; i++)
        {
            items.Add(i < sizes.Count - 1 ? $"dense {sizes[i]} {hidden.Name}" : $"dense {sizes[i]}");
        }
        return Parse(string.Join(", ", items));
    }

    /// <summary>Reads a network description; see <see cref="NetworkSpec"/> for the items.</summary>
    /// <exception cref="BackpropException">An item is empty, unknown or has the wrong words; the message names it.</exception>
    public static NetworkSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new BackpropException("--net is empty; give its layers separated by commas, e.g. --net \"dense 16 relu, dense 3\".");
        }
        var parts = text.Split(',');
        var items = new List<NetworkItem>(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            var words = parts[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                throw new BackpropException($"--net item {i + 1} is empty: two commas in a row, or a comma at the start or end.");
            }
            var item = new NetworkItem(i + 1, words[0].ToLowerInvariant(), words[1..]);
            var kinds = LayerRegistry.WithKeyword(item.Keyword);
            if (kinds.Count == 0)
            {
                throw new BackpropException($"{item.Where}: unknown layer '{words[0]}'{Suggestion(item.Keyword)}; the layers are {string.Join(", ", LayerRegistry.Keywords)}.");
            }
            foreach (var kind in kinds)
            {
                _ = Named(item, () => kind.Parse(item.Words));
            }
            items.Add(item);
        }
        return new NetworkSpec(items);
    }

    /// <summary>The output shape of one example of shape <paramref name="input"/> after every layer, checked item by item.</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given; the message names the item.</exception>
    public Shape OutputShape(Shape input) => Walk(input)[^1].Output;

    /// <summary>The number of trained numbers the network has for examples of shape <paramref name="input"/>.</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given.</exception>
    public long ParameterCount(Shape input)
        => Walk(input).Sum(l => l.Kind.Arrays(l.Fields, l.Input).Where(a => a.Trained).Sum(a => (long)a.Shape.Length));

    /// <summary>The numbers one example's layer outputs hold in all, for examples of shape <paramref name="input"/> (memory estimates).</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given.</exception>
    public long ActivationCount(Shape input) => input.Length + Walk(input).Sum(l => (long)l.Output.Length);

    /// <summary>
    /// Builds the network for examples of shape <paramref name="input"/> (without the batch dimension),
    /// parameters zero until initialised (<see cref="Initializer"/>); layers with generators (dropout)
    /// draw from generators seeded from <paramref name="seed"/>, one per generator in order.
    /// </summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given.</exception>
    public Sequential<T> Build<T>(Shape input, ulong seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var seeds = new Rng(seed ^ 0x5EED_D409_0F7A_1234UL);
        var modules = new List<Module<T>>();
        foreach (var layer in Walk(input))
        {
            var module = Named(layer.Item, () => layer.Kind.Create<T>(layer.Fields, layer.Input));
            foreach (var (_, generator) in module.Generators())
            {
                generator.State = new Rng(seeds.NextUInt64()).State;
            }
            modules.Add(module);
        }
        return new Sequential<T>([.. modules]);
    }

    /// <summary>The description with one space after each comma: <c>dense 8 relu, dense 3</c>.</summary>
    public override string ToString() => string.Join(", ", Items.Select(i => i.Text));

    // Kinds that share a keyword say which inputs each takes.
    private static string Described(LayerKind kind, bool shared)
        => (!shared ? "" : kind.InputRank == 1 ? "on rows: " : kind.InputRank == 3 ? "on images: " : "") + kind.Description;

    // The layers the items make, each with the kind chosen for the shape it is given: an activation
    // right after a layer that fuses one becomes that layer's activation.
    private List<Layer> Walk(Shape input)
    {
        var layers = new List<Layer>();
        var shape = input;
        foreach (var item in Items)
        {
            var kinds = LayerRegistry.WithKeyword(item.Keyword);
            if (kinds is [Activation activation] && layers.Count > 0
                && Named(item, () => layers[^1].Kind.FuseActivation(layers[^1].Fields, activation)) is { } fused)
            {
                layers[^1] = layers[^1] with { Fields = fused };
                continue;
            }
            var kind = kinds.FirstOrDefault(k => k.InputRank is null || k.InputRank == shape.Rank) ?? kinds[0];
            if (kind.InputRank is { } rank && rank != shape.Rank)
            {
                throw new BackpropException($"{item.Where}: {WrongRank(item.Keyword, rank, shape)}.");
            }
            var fields = Named(item, () => kind.Parse(item.Words));
            var output = Named(item, () => kind.OutputShape(fields, shape));
            layers.Add(new Layer(item, kind, fields, shape, output));
            shape = output;
        }
        return layers;
    }

    private static string WrongRank(string keyword, int rank, Shape input) => rank switch
    {
        1 when input.Rank == 3 => $"{keyword} takes rows of numbers but gets images {input}; put flatten (or globalavgpool) before it",
        3 when input.Rank == 1 => $"takes images [channels, height, width] but gets rows of {input.Length} number{(input.Length == 1 ? "" : "s")} (image data such as --dataset fashion-mnist is given as images when the first layer takes them)",
        1 => $"{keyword} takes rows of numbers, not examples of shape {input}",
        _ => $"takes images [channels, height, width], not examples of shape {input}",
    };

    // Runs a kind's step, naming the item in its message.
    private static TResult Named<TResult>(NetworkItem item, Func<TResult> step)
    {
        try
        {
            return step();
        }
        catch (BackpropException e)
        {
            throw new BackpropException($"{item.Where}: {e.Message.TrimEnd('.')}.", e);
        }
    }

    private static string Suggestion(string keyword)
    {
        var best = LayerRegistry.Keywords.Select(k => (Keyword: k, Distance: Distance(k, keyword))).MinBy(k => k.Distance);
        return best.Distance <= Math.Max(1, keyword.Length / 3) ? $" (did you mean '{best.Keyword}'?)" : "";
    }

    // Levenshtein distance, for did-you-mean.
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    // One layer: its item, the kind chosen for its input, its fields (an activation fused in), its input and output shapes.
    private sealed record Layer(NetworkItem Item, LayerKind Kind, LayerFields Fields, Shape Input, Shape Output);
}
