using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>Modules applied one after the other; the i-th is named <c>layer{i}</c>.</summary>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Module<T>[] layers;

    /// <summary>Chains <paramref name="layers"/> and names their parameters <c>layer0.weight</c>, ….</summary>
    public Sequential(params Module<T>[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException("A Sequential network needs at least one layer.", nameof(layers));
        }
        this.layers = (Module<T>[])layers.Clone();
        SetName("layer");
    }

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<Module<T>> Layers => layers;

    /// <summary>
    /// Builds a multilayer perceptron: <paramref name="sizes"/> are the layer widths from inputs to
    /// outputs (e.g. 1, 2, 1); hidden layers use <paramref name="hidden"/>, the last <paramref name="output"/> (identity when null).
    /// </summary>
    public static Sequential<T> Mlp(IReadOnlyList<int> sizes, Activation hidden, Activation? output = null)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count < 2)
        {
            throw new BackpropException("A network needs at least two layer sizes: inputs and outputs (e.g. 1,2,1).");
        }
        if (sizes.Any(s => s <= 0))
        {
            throw new BackpropException($"Layer sizes must be positive; got {string.Join(",", sizes)}.");
        }
        var dense = new Module<T>[sizes.Count - 1];
        for (var i = 0; i < dense.Length; i++)
        {
            dense[i] = new Dense<T>(sizes[i], sizes[i + 1], i == dense.Length - 1 ? output : hidden);
        }
        return new Sequential<T>(dense);
    }

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = input;
        foreach (var layer in layers)
        {
            x = layer.Forward(x);
        }
        return x;
    }

    /// <inheritdoc/>
    public override IEnumerable<Parameter<T>> Parameters() => layers.SelectMany(l => l.Parameters());

    /// <inheritdoc/>
    public override IEnumerable<Module<T>> Children() => layers;

    /// <inheritdoc/>
    public override void SetName(string prefix)
    {
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i].SetName($"{prefix}{i}");
        }
    }

    /// <inheritdoc/>
    public override string Describe() => string.Join(" → ", layers.Select(l => l.Describe()));
}
