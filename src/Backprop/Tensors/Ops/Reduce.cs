using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;

namespace Backprop.Tensors.Ops;

/// <summary>s = Σ x (or the mean, Σ x / n): a scalar.</summary>
internal sealed class SumOp<T>(Tensor<T> x, bool mean) : Op<T>(mean ? "mean" : "sum", Shape.Scalar, x)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T scale = mean ? T.One / T.CreateChecked(x.Length) : T.One;

    public override void Forward() => Output.Data[0] = TensorPrimitives.Sum<T>(x.Data) * scale;

    // ∂(Σ x)/∂xᵢ = 1; ∂(Σ x / n)/∂xᵢ = 1/n
    public override void Backward()
    {
        if (x.RequiresGrad)
        {
            TensorPrimitives.Add(x.GradData, Output.GradData[0] * scale, x.GradData);
        }
    }
}
