using System.Globalization;
using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// Dropout (Srivastava et al., 2014), inverted as in PyTorch: in training each element is zeroed with
/// probability p and the others are scaled by 1/(1 − p); in evaluation the input passes unchanged,
/// so evaluation, prediction and export see the identity.
/// </summary>
/// <remarks>
/// Masks are drawn from the layer's own seeded <see cref="Generator"/>, one draw per element on the
/// calling thread, a new mask every training step (a replayed graph too), so a run is the same at any
/// thread count. Checkpoints save the generator's state (<see cref="Module{T}.Generators"/>).
/// </remarks>
public sealed class Dropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a dropout layer drawing its masks from <paramref name="generator"/>.</summary>
    /// <param name="probability">p, the probability of zeroing an element: 0 ≤ p &lt; 1.</param>
    /// <param name="generator">The masks' generator.</param>
    /// <exception cref="BackpropException">p is not in [0, 1).</exception>
    public Dropout(double probability, Rng generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        TensorOps.CheckDropoutProbability(probability);
        Probability = probability;
        Generator = generator;
    }

    /// <summary>Creates a dropout layer whose masks come from a generator seeded with <paramref name="seed"/>.</summary>
    /// <exception cref="BackpropException">p is not in [0, 1).</exception>
    public Dropout(double probability, ulong seed) : this(probability, new Rng(seed))
    {
    }

    /// <summary>p, the probability of zeroing an element in training.</summary>
    public double Probability { get; }

    /// <summary>The generator the masks are drawn from.</summary>
    public Rng Generator { get; }

    /// <summary>The layer's name (<c>layer3</c>).</summary>
    public string Name { get; private set; } = "dropout";

    /// <inheritdoc/>
    public override LayerKind Kind => DropoutKind.Instance;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return IsTraining && Probability > 0 ? input.Dropout(Probability, Generator) : input;
    }

    /// <inheritdoc/>
    public override IEnumerable<KeyValuePair<string, Rng>> Generators() => [new(Name + ".generator", Generator)];

    /// <inheritdoc/>
    public override void SetName(string prefix) => Name = prefix;

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dropout(p = {Probability})");
}

/// <summary>
/// Dropout's kind: <c>dropout P</c>; field <c>probability</c>; no arrays and no ONNX node (exported
/// models predict, and prediction sees the identity).
/// </summary>
/// <remarks>
/// A dropout layer built from a model file draws its masks from a generator seeded with 0; checkpoints,
/// not model files, carry a generator's state for resuming.
/// </remarks>
public sealed class DropoutKind : LayerKind
{
    private DropoutKind()
    {
    }

    /// <summary>The one instance (registered in <see cref="LayerRegistry"/>).</summary>
    public static DropoutKind Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "dropout";

    /// <inheritdoc/>
    public override string DisplayName => "Dropout";

    /// <inheritdoc/>
    public override string Syntax => "dropout P";

    /// <inheritdoc/>
    public override string Description => "in training, zeroes each number with probability P and scales the others by 1/(1 − P); the identity otherwise";

    /// <inheritdoc/>
    public override (string Item, Shape Input) Example => ("dropout 0.25", new Shape(6));

    /// <inheritdoc/>
    public override LayerFields Parse(IReadOnlyList<string> words)
    {
        var w = new ItemWords(words, Syntax);
        var word = w.Peek;
        var p = w.Number("P");
        w.End();
        return p is >= 0 and < 1
            ? new LayerFields().Add("probability", p)
            : throw new BackpropException($"P is the probability of dropping a number, from 0 to below 1, not '{word}'");
    }

    /// <inheritdoc/>
    public override Shape OutputShape(LayerFields fields, Shape input)
    {
        ArgumentNullException.ThrowIfNull(fields);
        TensorOps.CheckDropoutProbability(fields.Double("probability"));
        return input;
    }

    /// <inheritdoc/>
    public override Module<T> Create<T>(LayerFields fields, Shape input)
    {
        _ = OutputShape(fields, input);
        return new Dropout<T>(fields.Double("probability"), seed: 0);
    }

    /// <inheritdoc/>
    public override LayerFields FieldsOf<T>(Module<T> layer) => new LayerFields().Add("probability", Expect<Dropout<T>>(layer).Probability);

    /// <summary>No node: the layer's output is its input.</summary>
    public override string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name) => input;

    /// <inheritdoc/>
    public override string Label(LayerFields fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return string.Create(CultureInfo.InvariantCulture, $"Dropout({fields.Double("probability")})");
    }
}
