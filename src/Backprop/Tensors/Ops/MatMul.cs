using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>C = A·B for A [m×k] and B [k×n].</summary>
internal sealed class MatMulOp<T>(Tensor<T> a, Tensor<T> b) : Op<T>("matmul", OutputShape(a, b), a, b)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int m = a.Shape.Rows;
    private readonly int k = a.Shape.Columns;
    private readonly int n = b.Shape.Columns;

    private static Shape OutputShape(Tensor<T> a, Tensor<T> b)
    {
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2 || a.Shape[1] != b.Shape[0])
        {
            throw new ArgumentException($"Cannot multiply matrices of shapes {a.Shape} and {b.Shape}: need [m, k] and [k, n].");
        }
        return new Shape(a.Shape[0], b.Shape[1]);
    }

    public override void Forward() => Gemm.Multiply<T>(false, false, m, n, k, a.Data, b.Data, Output.Data, accumulate: false);

    // dA = dC·Bᵀ, dB = Aᵀ·dC
    public override void Backward()
    {
        if (a.RequiresGrad)
        {
            Gemm.Multiply<T>(false, true, m, k, n, Output.GradData, b.Data, a.GradData, accumulate: true);
        }
        if (b.RequiresGrad)
        {
            Gemm.Multiply<T>(true, false, k, n, m, a.Data, Output.GradData, b.GradData, accumulate: true);
        }
    }
}
