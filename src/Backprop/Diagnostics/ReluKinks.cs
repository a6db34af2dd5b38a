using Backprop.Autograd;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Diagnostics;

/// <summary>A ReLU whose input is exactly 0 on one row: where its derivative jumps from 0 to 1.</summary>
/// <param name="Layer">The layer's index in the network (0 for the first).</param>
/// <param name="Unit">The unit's index in the layer.</param>
/// <param name="Row">The data row (0 for the first).</param>
public readonly record struct ReluKink(int Layer, int Unit, int Row);

/// <summary>
/// Finds the ReLU units sitting exactly at their kink, and the numbers whose finite difference crosses it.
/// </summary>
/// <remarks>
/// At an input of exactly 0, ReLU has no derivative: backprop takes ReLU′(0) = 0 (as PyTorch does),
/// while the central difference (f(x + h) − f(x − h))/2h averages the slopes 0 and 1 on either side. A
/// gradient check then fails for every number upstream of that unit, though no derivative rule is
/// wrong. A zero bias on an input of 0 (the lesson's first dosage) puts a unit exactly there.
/// </remarks>
public static class ReluKinks
{
    /// <summary>Every (layer, unit, row) of <paramref name="network"/>'s ReLU layers whose input is exactly 0 on <paramref name="inputs"/>.</summary>
    public static IReadOnlyList<ReluKink> Find(Sequential<double> network, Tensor<double> inputs)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inputs);
        var kinks = new List<ReluKink>();
        using var scope = GradMode.NoGrad();
        var x = inputs;
        for (var l = 0; l < network.Layers.Count; l++)
        {
            if (network.Layers[l] is not Dense<double> dense)
            {
                x = network.Layers[l].Forward(x);
                continue;
            }
            var z = x.Linear(dense.Weight, dense.Bias);
            if (dense.Activation == Activation.Relu)
            {
                var n = dense.Outputs;
                for (var i = 0; i < z.Length; i++)
                {
                    if (z.Data[i] == 0)
                    {
                        kinks.Add(new ReluKink(l, i % n, i / n));
                    }
                }
            }
            x = z.Apply(dense.Activation);
        }
        return kinks;
    }

    /// <summary>
    /// The first kink upstream of the number <paramref name="element"/> of <paramref name="network"/>:
    /// a kink of a later layer, or of the same layer at the unit this weight or bias feeds; null if none.
    /// </summary>
    public static ReluKink? Upstream(Sequential<double> network, IReadOnlyList<ReluKink> kinks, ParameterElement<double> element)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(kinks);
        var layer = -1;
        var unit = -1;
        for (var l = 0; l < network.Layers.Count; l++)
        {
            if (network.Layers[l] is Dense<double> dense && (dense.Weight == element.Parameter || dense.Bias == element.Parameter))
            {
                layer = l;
                unit = element.Index % dense.Outputs;
            }
        }
        foreach (var k in kinks)
        {
            if (layer >= 0 && (k.Layer > layer || (k.Layer == layer && k.Unit == unit)))
            {
                return k;
            }
        }
        return null;
    }
}
