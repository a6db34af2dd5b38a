using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;

namespace Backprop.Tensors.Ops;

/// <summary>
/// A tensor seen with another shape: the output shares the input's storage (no copy, and nothing to
/// recompute on replay), so reshape and flatten cost nothing forward.
/// </summary>
/// <remarks>
/// Row-major order is unchanged, so element i of the output is element i of the input, and
/// ∂out_i/∂in_j = [i = j]: backward adds the output's gradient to the input's, element for element.
/// NOTE: the output keeps a gradient of its own (not the input's storage): the graph clears every
/// output's gradient before a backward pass, and sharing would wipe a leaf's accumulated gradient.
/// </remarks>
internal sealed class ReshapeOp<T>(Tensor<T> x, Shape shape) : Op<T>("reshape", x.ViewAs(shape), x)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // The output is a view: its values are the input's, whatever the input holds now.
    public override void Forward()
    {
    }

    internal override bool SetsGradientOf(int index) => true;

    // d out_i / d in_i = 1
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            if (MustSetGradientOf(0))
            {
                // What adding to zeros gives (g + 0, so −0 becomes +0 as it would), without the zeroing pass.
                TensorPrimitives.Add(Output.GradData, T.Zero, x.GradData);
            }
            else
            {
                TensorPrimitives.Add(x.GradData, Output.GradData, x.GradData);
            }
        }
    }

    /// <summary>
    /// The shape <paramref name="dims"/> asks for, with at most one −1 standing for whatever size makes
    /// the element count match.
    /// </summary>
    public static Shape Resolve(Shape from, int[] dims)
    {
        var inferred = -1;
        long known = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1 && inferred < 0)
            {
                inferred = i;
            }
            else if (dims[i] <= 0)
            {
                throw new ArgumentException($"Cannot reshape {from} to [{string.Join(", ", dims)}]: sizes must be positive (one may be -1).", nameof(dims));
            }
            else
            {
                known *= dims[i];
            }
        }
        if (inferred >= 0)
        {
            if (from.Length % known != 0)
            {
                throw new ArgumentException($"Cannot reshape {from} ({from.Length} elements) to [{string.Join(", ", dims)}]: {from.Length} is not a multiple of {known}.", nameof(dims));
            }
            var resolved = (int[])dims.Clone();
            resolved[inferred] = (int)(from.Length / known);
            return new Shape(resolved);
        }
        if (known != from.Length)
        {
            throw new ArgumentException($"Cannot reshape {from} ({from.Length} elements) to [{string.Join(", ", dims)}] ({known} elements).", nameof(dims));
        }
        return new Shape(dims);
    }
}
