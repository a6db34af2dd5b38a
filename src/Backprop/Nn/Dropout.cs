using System.Globalization;
using System.Numerics;
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
