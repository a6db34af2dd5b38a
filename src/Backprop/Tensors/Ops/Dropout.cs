using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>
/// Inverted dropout: y = x · mask, each mask element 0 with probability p and 1/(1 − p) otherwise.
/// Every forward pass (a graph replay too) draws a new mask from the generator, into the same array.
/// </summary>
internal sealed class DropoutOp<T>(Tensor<T> x, double probability, Rng generator) : Op<T>("dropout", x.Shape, x)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] mask = new T[x.Length];

    /// <summary>The mask of the last forward pass.</summary>
    public ReadOnlySpan<T> Mask => mask;

    public override void Forward()
    {
        DropoutKernels.DrawMask<T>(generator, probability, mask);
        TensorPrimitives.Multiply(x.Data, mask, Output.Data);
    }

    // ∂yᵢ/∂xᵢ = maskᵢ
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            TensorPrimitives.MultiplyAdd(Output.GradData, mask, x.GradData, x.GradData);
        }
    }
}
