using System.Globalization;
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
/// <para>The items (<see cref="Syntax"/> lists them with their words):</para>
/// <list type="bullet">
/// <item><c>dense UNITS [ACTIVATION]</c>: f(x·W + b) on rows of numbers.</item>
/// <item><c>conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]</c>: a 2-D convolution of images, square KERNEL×KERNEL kernels.</item>
/// <item><c>maxpool K [stride S]</c>, <c>avgpool K [stride S]</c> (stride K by default), <c>globalavgpool</c>.</item>
/// <item><c>flatten</c>: each example as one row. <c>dropout P</c>: inverted dropout, training only.</item>
/// <item><c>batchnorm</c>: BatchNorm1d on rows, BatchNorm2d on images.</item>
/// <item><c>relu</c>, <c>softplus</c>, <c>sigmoid</c>, <c>tanh</c>, <c>identity</c>: an activation. Right after a
/// dense or conv item without an activation of its own it is fused into that layer (one operation, as
/// <c>dense 128 relu</c>), so <c>dense 8, relu</c> and <c>dense 8 relu</c> build the same network.</item>
/// </list>
/// <para>
/// Each layer's sizes follow from the input shape one example has (<c>[features]</c> for rows,
/// <c>[channels, height, width]</c> for images), given to <see cref="Build{T}"/>. Every problem is one
/// <see cref="BackpropException"/> naming the item (<c>--net item 3 (maxpool x): …</c>).
/// </para>
/// </remarks>
public sealed class NetworkSpec
{
    private static readonly Item[] Kinds =
    [
        new("dense", "dense UNITS [ACTIVATION]", "f(x·W + b) on rows of numbers, UNITS outputs", false),
        new("conv", "conv CHANNELS KERNEL [stride S] [pad P] [nobias] [ACTIVATION]", "2-D convolution of images: CHANNELS kernels of KERNEL×KERNEL", true),
        new("maxpool", "maxpool K [stride S]", "largest value of each K×K window (stride K by default)", true),
        new("avgpool", "avgpool K [stride S]", "mean of each K×K window (stride K by default)", true),
        new("globalavgpool", "globalavgpool", "mean of each channel: images [C, H, W] become rows [C]", true),
        new("flatten", "flatten", "each example as one row of numbers", false),
        new("dropout", "dropout P", "zeroes each number with probability P in training (none in evaluation)", false),
        new("batchnorm", "batchnorm", "batch normalisation of each feature (rows) or channel (images)", false),
        .. LayerRegistry.Activations.Select(a => new Item(a.Name, a.Name, "activation " + a.DisplayName, false)),
    ];

    private NetworkSpec(IReadOnlyList<NetworkItem> items) => Items = items;

    /// <summary>The items, in order.</summary>
    public IReadOnlyList<NetworkItem> Items { get; }

    /// <summary>Every item's syntax and what it does, one per line, for help text.</summary>
    public static IReadOnlyList<(string Syntax, string Description)> Syntax => [.. Kinds.Select(k => (k.Syntax, k.Description))];

    /// <summary>Whether the first layer takes images (conv or pooling): the data is then given as [N, C, H, W].</summary>
    public bool TakesImages => Kinds.Single(k => k.Keyword == Items[0].Keyword).TakesImages;

    /// <summary>
    /// The network of a multilayer perceptron (the command's <c>--layers</c> and <c>--activation</c>):
    /// a dense layer per size after the first, <paramref name="hidden"/> on all but the last.
    /// </summary>
    /// <exception cref="BackpropException">Fewer than two sizes, or a size that is not positive.</exception>
    public static NetworkSpec Mlp(IReadOnlyList<int> sizes, Activation hidden)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count < 2 || sizes.Any(s => s <= 0))
        {
            throw new BackpropException($"A network needs at least an input size and an output size, all positive; got {string.Join(",", sizes)}.");
        }
        var items = new List<string>();
        for (var i = 1; i < sizes.Count; i++)
        {
            items.Add(i < sizes.Count - 1 ? $"dense {sizes[i]} {hidden.ToString().ToLowerInvariant()}" : $"dense {sizes[i]}");
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
            var kind = Array.Find(Kinds, k => k.Keyword == item.Keyword)
                ?? throw new BackpropException($"{item.Where}: unknown layer '{words[0]}'{Suggestion(item.Keyword)}; the layers are {string.Join(", ", Kinds.Select(k => k.Keyword))}.");
            _ = Read(kind, item);
            items.Add(item);
        }
        return new NetworkSpec(items);
    }

    /// <summary>The output shape of one example of shape <paramref name="input"/> after every layer, checked item by item.</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given; the message names the item.</exception>
    public Shape OutputShape(Shape input)
    {
        var shape = input;
        foreach (var layer in Layers())
        {
            shape = layer.OutputShape(shape);
        }
        return shape;
    }

    /// <summary>The number of trained numbers the network has for examples of shape <paramref name="input"/>.</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given.</exception>
    public long ParameterCount(Shape input)
    {
        long count = 0;
        var shape = input;
        foreach (var layer in Layers())
        {
            count += layer.ParameterCount(shape);
            shape = layer.OutputShape(shape);
        }
        return count;
    }

    /// <summary>The numbers one example's layer outputs hold in all, for examples of shape <paramref name="input"/> (memory estimates).</summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given.</exception>
    public long ActivationCount(Shape input)
    {
        long count = input.Length;
        var shape = input;
        foreach (var layer in Layers())
        {
            shape = layer.OutputShape(shape);
            count += shape.Length;
        }
        return count;
    }

    /// <summary>
    /// Builds the network for examples of shape <paramref name="input"/> (without the batch dimension),
    /// parameters zero until initialised (<see cref="Initializer"/>); dropout layers draw their masks from
    /// generators seeded from <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="BackpropException">A layer cannot take the shape it is given, or the network does not end in rows of numbers.</exception>
    public Sequential<T> Build<T>(Shape input, ulong seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var seeds = new Rng(seed ^ 0x5EED_D409_0F7A_1234UL);
        var shape = input;
        var modules = new List<Module<T>>();
        foreach (var layer in Layers())
        {
            modules.Add(layer.Create<T>(shape, seeds));
            shape = layer.OutputShape(shape);
        }
        return new Sequential<T>([.. modules]);
    }

    /// <summary>The description with one space after each comma: <c>dense 8 relu, dense 3</c>.</summary>
    public override string ToString() => string.Join(", ", Items.Select(i => i.Text));

    // The layers the items make: an activation right after a dense or conv layer without one is fused into it.
    private List<Layer> Layers()
    {
        var layers = new List<Layer>();
        foreach (var item in Items)
        {
            var layer = Read(Kinds.Single(k => k.Keyword == item.Keyword), item);
            if (layer.Kind is Keyword.Activation && layers.Count > 0 && layers[^1] is { Kind: Keyword.Dense or Keyword.Conv, Activation: null } previous)
            {
                layers[^1] = previous with { Activation = layer.Activation };
            }
            else
            {
                layers.Add(layer);
            }
        }
        return layers;
    }

    private static string Suggestion(string keyword)
    {
        var best = Kinds.Select(k => (k.Keyword, Distance: Distance(k.Keyword, keyword))).MinBy(k => k.Distance);
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

    private static Layer Read(Item kind, NetworkItem item)
    {
        var words = new Words(kind, item);
        var layer = item.Keyword switch
        {
            "dense" => new Layer(item, Keyword.Dense) { Size = words.Positive("UNITS"), Activation = words.OptionalActivation() },
            "conv" => words.Conv(new Layer(item, Keyword.Conv) { Size = words.Positive("CHANNELS"), Kernel = words.Positive("KERNEL") }),
            "maxpool" => words.Pool(new Layer(item, Keyword.MaxPool)),
            "avgpool" => words.Pool(new Layer(item, Keyword.AvgPool)),
            "globalavgpool" => new Layer(item, Keyword.GlobalAvgPool),
            "flatten" => new Layer(item, Keyword.Flatten),
            "dropout" => new Layer(item, Keyword.Dropout) { Probability = words.Probability() },
            "batchnorm" => new Layer(item, Keyword.BatchNorm),
            _ => new Layer(item, Keyword.Activation) { Activation = Activations.Parse(item.Keyword) },
        };
        words.End();
        return layer;
    }

    private sealed record Item(string Keyword, string Syntax, string Description, bool TakesImages);

    private enum Keyword
    {
        Dense,
        Conv,
        MaxPool,
        AvgPool,
        GlobalAvgPool,
        Flatten,
        Dropout,
        BatchNorm,
        Activation,
    }

    // The words of one item, read left to right; anything left over or malformed is one message naming the item.
    private sealed class Words(Item kind, NetworkItem item)
    {
        private int next;

        private BackpropException Expected(string why) => new($"{item.Where}: {why}; expected '{kind.Syntax}'.");

        public int Positive(string name)
        {
            if (next >= item.Words.Count)
            {
                throw Expected($"{name} is missing");
            }
            return Number(item.Words[next++], name, 1);
        }

        public int? Named(string name, int min)
        {
            if (next < item.Words.Count && item.Words[next].Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                next++;
                return next < item.Words.Count ? Number(item.Words[next++], name, min) : throw Expected($"{name} needs a number after it");
            }
            return null;
        }

        public Activation? OptionalActivation()
        {
            if (next < item.Words.Count && LayerRegistry.Activations.Any(a => a.Name.Equals(item.Words[next], StringComparison.OrdinalIgnoreCase)))
            {
                return Activations.Parse(item.Words[next++]);
            }
            return null;
        }

        public Layer Pool(Layer layer)
        {
            var kernel = Positive("K");
            return layer with { Kernel = kernel, Stride = Named("stride", 1) ?? kernel };
        }

        public Layer Conv(Layer layer)
        {
            // Options in any order, each at most once: stride S, pad P, nobias, an activation.
            int? stride = null, pad = null;
            bool? bias = null;
            Activation? activation = null;
            while (next < item.Words.Count)
            {
                var word = item.Words[next].ToLowerInvariant();
                var before = next;
                if (word == "stride" && stride is null)
                {
                    stride = Named("stride", 1);
                }
                else if (word is "pad" or "padding" && pad is null)
                {
                    pad = Named(word, 0);
                }
                else if (word == "nobias" && bias is null)
                {
                    bias = false;
                    next++;
                }
                else if (activation is null && OptionalActivation() is { } a)
                {
                    activation = a;
                }
                if (next == before)
                {
                    throw Expected($"'{item.Words[next]}' is not one of its words, or is given twice");
                }
            }
            return layer with { Stride = stride ?? 1, Padding = pad ?? 0, Bias = bias ?? true, Activation = activation };
        }

        public double Probability()
        {
            if (next >= item.Words.Count)
            {
                throw Expected("P is missing");
            }
            var word = item.Words[next++];
            return double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p >= 0 && p < 1
                ? p
                : throw new BackpropException($"{item.Where}: P is the probability of dropping a number, from 0 to below 1, not '{word}'.");
        }

        public void End()
        {
            if (next < item.Words.Count)
            {
                throw Expected($"'{item.Words[next]}' is one word too many");
            }
        }

        private int Number(string word, string name, int min)
            => int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v
                : throw new BackpropException($"{item.Where}: {name} must be a {(min > 0 ? "positive" : "non-negative")} whole number, not '{word}'.");
    }

    // One layer as the items describe it; its sizes follow from the shape it is given.
    private sealed record Layer(NetworkItem Item, Keyword Kind)
    {
        public int Size { get; init; }

        public int Kernel { get; init; }

        public int Stride { get; init; } = 1;

        public int Padding { get; init; }

        public bool Bias { get; init; } = true;

        public double Probability { get; init; }

        public Activation? Activation { get; init; }

        private string Where => Item.Where;

        public Shape OutputShape(Shape input)
        {
            switch (Kind)
            {
                case Keyword.Dense:
                    Rows(input);
                    return new Shape(Size);
                case Keyword.Conv:
                    var (_, h, w) = Images(input);
                    return new Shape(Size, Out(h, w, Padding).Height, Out(h, w, Padding).Width);
                case Keyword.MaxPool or Keyword.AvgPool:
                    var (pc, ph, pw) = Images(input);
                    return new Shape(pc, Out(ph, pw, 0).Height, Out(ph, pw, 0).Width);
                case Keyword.GlobalAvgPool:
                    return new Shape(Images(input).Channels);
                case Keyword.Flatten:
                    return new Shape(input.Length);
                case Keyword.BatchNorm:
                    return input.Rank is 1 or 3 ? input : throw new BackpropException($"{Where}: takes rows of numbers or images [channels, height, width]; it gets examples of shape {input}.");
                default:
                    return input;
            }
        }

        public long ParameterCount(Shape input) => Kind switch
        {
            Keyword.Dense => ((long)Rows(input) * Size) + Size,
            Keyword.Conv => ((long)Images(input).Channels * Kernel * Kernel * Size) + (Bias ? Size : 0),
            Keyword.BatchNorm => 2L * input[0],
            _ => 0,
        };

        public Module<T> Create<T>(Shape input, Rng seeds) where T : unmanaged, IFloatingPointIeee754<T>
        {
            _ = OutputShape(input);
            var activation = Activation ?? Nn.Activation.Identity;
            return Kind switch
            {
                Keyword.Dense => new Dense<T>(Rows(input), Size, activation),
                Keyword.Conv => new Conv2d<T>(Images(input).Channels, Size, Kernel, Stride, Padding, Bias, activation),
                Keyword.MaxPool => new MaxPool2d<T>(Kernel, Stride),
                Keyword.AvgPool => new AvgPool2d<T>(Kernel, Stride),
                Keyword.GlobalAvgPool => new GlobalAvgPool<T>(),
                Keyword.Flatten => new Flatten<T>(),
                Keyword.Dropout => new Dropout<T>(Probability, seeds.NextUInt64()),
                Keyword.BatchNorm when input.Rank == 1 => new BatchNorm1d<T>(input[0]),
                Keyword.BatchNorm => new BatchNorm2d<T>(input[0]),
                _ => new ActivationLayer<T>(activation),
            };
        }

        private int Rows(Shape input)
            => input.Rank == 1 ? input[0]
                : throw new BackpropException($"{Where}: dense takes rows of numbers but gets images {input}; put flatten (or globalavgpool) before it.");

        private (int Channels, int Height, int Width) Images(Shape input)
            => input.Rank == 3 ? (input[0], input[1], input[2])
                : throw new BackpropException($"{Where}: takes images [channels, height, width] but gets rows of {input.Length} number{(input.Length == 1 ? "" : "s")}{(input.Rank == 1 ? " (image data such as --dataset fashion-mnist is given as images when the first layer takes them)" : "")}.");

        // ⌊(size + 2p − k)/s⌋ + 1 for the height and the width, when the window fits.
        private (int Height, int Width) Out(int height, int width, int padding)
            => Math.Min(height, width) + (2 * padding) >= Kernel
                ? (((height + (2 * padding) - Kernel) / Stride) + 1, ((width + (2 * padding) - Kernel) / Stride) + 1)
                : throw new BackpropException($"{Where}: a {Kernel}×{Kernel} {(Kind == Keyword.Conv ? "kernel" : "window")} does not fit images of {height}×{width}{(padding > 0 ? $" with padding {padding}" : "")}.");
    }
}
