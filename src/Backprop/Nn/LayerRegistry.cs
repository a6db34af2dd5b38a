namespace Backprop.Nn;

/// <summary>
/// Every layer kind Backprop knows, by name: model files, the ONNX exporter, the model summary,
/// <c>--net</c> and the tests find kinds here. Adding a kind is one line in <see cref="Kinds"/>.
/// </summary>
/// <remarks>
/// Model files name kinds by <see cref="LayerKind.Name"/> only: a file can name no type, and nothing
/// outside this list is ever built from one.
/// </remarks>
public static class LayerRegistry
{
    private static readonly LayerKind[] All =
    [
        // One line per kind, in the order help lists them.
        DenseKind.Instance,
        Conv2dKind.Instance,
        MaxPool2dKind.Instance,
        AvgPool2dKind.Instance,
        GlobalAvgPoolKind.Instance,
        FlattenKind.Instance,
        DropoutKind.Instance,
        BatchNorm1dKind.Instance,
        BatchNorm2dKind.Instance,
        SoftPlusActivation.Instance,
        ReluActivation.Instance,
        SigmoidActivation.Instance,
        TanhActivation.Instance,
        IdentityActivation.Instance,
    ];

    private static readonly Dictionary<string, LayerKind> ByName = CheckedNames();

    private static readonly Dictionary<string, LayerKind[]> ByKeyword = CheckedKeywords();

    /// <summary>Every registered kind, in the order help lists them.</summary>
    public static IReadOnlyList<LayerKind> Kinds => All;

    /// <summary>The registered activations (kinds that are <see cref="Activation"/>s).</summary>
    public static IReadOnlyList<Activation> Activations { get; } = [.. All.OfType<Activation>()];

    /// <summary>The kind named <paramref name="name"/> (exact, lower case), or null.</summary>
    public static LayerKind? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.GetValueOrDefault(name);
    }

    /// <summary>
    /// The kinds whose <c>--net</c> item starts with <paramref name="keyword"/> (any case), in registry
    /// order: usually one; several only when they take examples of different ranks (<c>batchnorm</c>).
    /// Empty when no kind has that keyword.
    /// </summary>
    public static IReadOnlyList<LayerKind> WithKeyword(string keyword)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        return ByKeyword.GetValueOrDefault(keyword.ToLowerInvariant()) ?? [];
    }

    /// <summary>Each kind's first keyword, once each, in registry order: the items help and messages list.</summary>
    public static IReadOnlyList<string> Keywords { get; } = [.. All.Select(k => k.Keywords[0]).Distinct()];

    private static Dictionary<string, LayerKind[]> CheckedKeywords()
    {
        var kinds = new Dictionary<string, LayerKind[]>(StringComparer.Ordinal);
        foreach (var kind in All)
        {
            foreach (var keyword in kind.Keywords.Distinct())
            {
                if (!string.Equals(keyword, keyword.ToLowerInvariant(), StringComparison.Ordinal) || keyword.Contains(' ', StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The --net keyword '{keyword}' of {kind.DisplayName} is not one lower-case word.");
                }
                var shared = kinds.GetValueOrDefault(keyword) ?? [];
                // A shared keyword must say by the input's rank which kind it builds.
                if (shared.Any(k => k.InputRank is null || kind.InputRank is null || k.InputRank == kind.InputRank))
                {
                    throw new InvalidOperationException($"{shared[0].DisplayName} and {kind.DisplayName} both have the --net keyword '{keyword}' and take the same inputs.");
                }
                kinds[keyword] = [.. shared, kind];
            }
        }
        return kinds;
    }

    private static Dictionary<string, LayerKind> CheckedNames()
    {
        var names = new Dictionary<string, LayerKind>(StringComparer.Ordinal);
        foreach (var kind in All)
        {
            if (!names.TryAdd(kind.Name, kind))
            {
                throw new InvalidOperationException($"Two layer kinds are named '{kind.Name}'.");
            }
        }
        return names;
    }
}
