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
