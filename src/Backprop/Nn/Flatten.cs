using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// Sees each example as one row: [batch, d₁, d₂, …] becomes [batch, d₁·d₂·…] (a view, no copy); no
/// parameters. Between convolution or pooling layers and dense layers.
/// </summary>
public sealed class Flatten<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override LayerKind Kind => FlattenKind.Instance;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank < 2)
        {
            throw new BackpropException($"Flatten takes a batch of examples [batch, …]; it was given shape {input.Shape}.");
        }
        return input.Flatten();
    }

    /// <inheritdoc/>
    public override string Describe() => "Flatten";
}

/// <summary>Flatten's kind: <c>flatten</c>; an example of any shape becomes one row; ONNX Flatten (axis 1).</summary>
public sealed class FlattenKind : LayerKind
{
    private FlattenKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static FlattenKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "flatten";

    /// <inheritdoc/>
    public override string DisplayName => "Flatten";

    /// <inheritdoc/>
    public override string Description => "sees each example as one row of numbers (images [C, H, W] become rows of C·H·W)";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => (Name, new Shape(2, 3, 4));

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        new ItemWords(words, Syntax).End();
        return new LayerFields();
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input) => new(input.Length);

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input) => new Flatten<T>();

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer)
    {
        _ = Expect<Flatten<T>>(layer);
        return new LayerFields();
    }

    /// <inheritdoc/>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Node("Flatten", [input], name + ".out", OnnxAttr.Int("axis", 1));
    }
}
