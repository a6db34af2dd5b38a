using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// Sees each example as one row: [batch, d₁, d₂, …] becomes [batch, d₁·d₂·…] (a view, no copy); no
/// parameters. Between convolution or pooling layers and dense layers.
/// </summary>
public sealed class Flatten<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
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
