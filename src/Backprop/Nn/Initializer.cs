using System.Numerics;

namespace Backprop.Nn;

/// <summary>
/// Sets the starting values of a network's weights and biases. Random initialisers draw from an
/// explicitly seeded <see cref="Rng"/>, so the same seed always gives the same network.
/// </summary>
public abstract class Initializer
{
    /// <summary>The initialiser's name as the command line spells it (e.g. <c>xavier</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Initialises every layer inside <paramref name="network"/>, in order, as its kind says
    /// (<see cref="LayerKind.Initialize{T}"/>: e.g. a dense layer's weights for its fan-in and fan-out, biases 0).
    /// </summary>
    public virtual void Initialize<T>(Module<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        var pending = new Stack<Module<T>>([network]);
        while (pending.Count > 0)
        {
            var module = pending.Pop();
            module.Kind?.Initialize(module, this);
            foreach (var child in module.Children().Reverse())
            {
                pending.Push(child);
            }
        }
    }

    /// <summary>Fills <paramref name="weights"/>, in order, with draws for a layer of the given fan-in and fan-out.</summary>
    public void Fill<T>(Span<T> weights, int fanIn, int fanOut) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanOut);
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = T.CreateChecked(DrawWeight(fanIn, fanOut));
        }
    }

    /// <summary>One weight for a layer with the given fan-in and fan-out; biases start at 0.</summary>
    protected abstract double DrawWeight(int fanIn, int fanOut);

    /// <summary>
    /// An initialiser by name: <c>normal</c>, <c>xavier</c> (or <c>glorot</c>), <c>he</c>.
    /// </summary>
    /// <exception cref="BackpropException">The name is unknown.</exception>
    public static Initializer Create(string name, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "NORMAL" => new StandardNormalInitializer(seed),
            "XAVIER" or "GLOROT" => new XavierInitializer(seed),
            "HE" => new HeInitializer(seed),
            _ => throw new BackpropException($"Unknown initialiser '{name}'; choose one of lesson, normal, xavier, he."),
        };
    }
}

/// <summary>
/// The lesson's rule: weights from the standard normal distribution N(0, 1), biases 0.
/// Random weights break the symmetry between units.
/// </summary>
public sealed class StandardNormalInitializer(ulong seed) : Initializer
{
    private readonly Rng rng = new(seed);

    /// <inheritdoc/>
    public override string Name => "normal";

    /// <inheritdoc/>
    protected override double DrawWeight(int fanIn, int fanOut) => rng.NextNormal();
}

/// <summary>Xavier/Glorot uniform: weights from U(−a, a) with a = √(6/(fan_in + fan_out)), biases 0.</summary>
/// <remarks>Glorot &amp; Bengio (2010), "Understanding the difficulty of training deep feedforward neural networks".</remarks>
public sealed class XavierInitializer(ulong seed) : Initializer
{
    private readonly Rng rng = new(seed);

    /// <inheritdoc/>
    public override string Name => "xavier";

    /// <inheritdoc/>
    protected override double DrawWeight(int fanIn, int fanOut)
    {
        var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        return rng.NextUniform(-limit, limit);
    }
}

/// <summary>He (Kaiming) normal: weights from N(0, 2/fan_in), biases 0; suited to ReLU layers.</summary>
/// <remarks>He et al. (2015), "Delving Deep into Rectifiers".</remarks>
public sealed class HeInitializer(ulong seed) : Initializer
{
    private readonly Rng rng = new(seed);

    /// <inheritdoc/>
    public override string Name => "he";

    /// <inheritdoc/>
    protected override double DrawWeight(int fanIn, int fanOut) => rng.NextNormal() * Math.Sqrt(2.0 / fanIn);
}
