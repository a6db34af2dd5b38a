using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>An activation as the fused linear op applies it: in place forward, in place derivative backward.</summary>
internal interface IActivationRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract string Name { get; }

    /// <summary>Whether <see cref="Apply"/> needs a buffer for f′(z) (SoftPlus: σ(z); tanh: sech² z); the others derive f′ from y.</summary>
    static abstract bool KeepsDerivative { get; }

    /// <summary>y = f(z) in place; fills <paramref name="derivative"/> with f′(z) when <see cref="KeepsDerivative"/>.</summary>
    static abstract void Apply(Span<T> z, Span<T> derivative);

    /// <summary>dy ← dy · f′(z) in place, from y = f(z) (and the kept derivative).</summary>
    static abstract void ToPreActivationGradient(ReadOnlySpan<T> y, ReadOnlySpan<T> derivative, Span<T> dy);
}

/// <summary>
/// A dense layer's whole computation as one recorded operation: Y = f(X·W + b) for X [m, k],
/// W [k, n], b [n].
/// </summary>
/// <remarks>
/// Forward: Z = X·W (GEMM), each row plus b, then f in place. Backward, from dY: dZ = dY ⊙ f′
/// in place, then db += column sums of dZ, dW += Xᵀ·dZ, dX += dZ·Wᵀ (GEMM, no transposes made).
/// Same numbers, in the same order, as matmul, add and the activation recorded separately, with
/// one op instead of three and no intermediate tensors.
/// NOTE: after <see cref="Backward"/> the output's gradient holds dZ, the gradient with respect to the
/// pre-activation (in place, so nothing is allocated or copied); the inputs' gradients are exact.
/// </remarks>
internal sealed class LinearOp<T, TActivation> : Op<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TActivation : struct, IActivationRule<T>
{
    private readonly Tensor<T> x;
    private readonly Tensor<T> weight;
    private readonly Tensor<T> bias;
    private readonly T[] derivative;
    private readonly int m;
    private readonly int k;
    private readonly int n;

    public LinearOp(Tensor<T> x, Tensor<T> weight, Tensor<T> bias)
        : base(TActivation.Name, OutputShape(x, weight, bias), x, weight, bias)
    {
        this.x = x;
        this.weight = weight;
        this.bias = bias;
        (m, k, n) = (x.Shape[0], x.Shape[1], weight.Shape[1]);
        derivative = TActivation.KeepsDerivative ? new T[m * n] : [];
    }

    private static Shape OutputShape(Tensor<T> x, Tensor<T> weight, Tensor<T> bias)
    {
        if (x.Shape.Rank != 2 || weight.Shape.Rank != 2 || x.Shape[1] != weight.Shape[0])
        {
            throw new ArgumentException($"Cannot multiply matrices of shapes {x.Shape} and {weight.Shape}: need [m, k] and [k, n].");
        }
        if (bias.Length != weight.Shape[1] || bias.Shape.Rows != 1)
        {
            throw new ArgumentException($"The bias must be one row of {weight.Shape[1]} values; got shape {bias.Shape}.");
        }
        return new Shape(x.Shape[0], weight.Shape[1]);
    }

    public override void Forward()
    {
        var y = Output.Data;
        Gemm.Multiply<T>(false, false, m, n, k, x.Data, weight.Data, y, accumulate: false);
        BiasKernels.AddToRows<T>(y, bias.Data);
        TActivation.Apply(y, derivative);
    }

    public override void Backward()
    {
        var dz = Output.GradData.AsSpan();
        TActivation.ToPreActivationGradient(Output.Data, derivative, dz);
        if (bias.RequiresGrad)
        {
            // db += Σ over rows of dZ
            BiasKernels.AddRowsTo<T>(dz, bias.GradData);
        }
        if (weight.RequiresGrad)
        {
            Gemm.Multiply<T>(true, false, k, n, m, x.Data, dz, weight.GradData, accumulate: true);
        }
        if (x.RequiresGrad)
        {
            Gemm.Multiply<T>(false, true, m, k, n, dz, weight.Data, x.GradData, accumulate: true);
        }
    }
}

/// <summary>
/// The squared-error losses in one op: SSR = Σᵢ (oᵢ − pᵢ)², or MSE = SSR/n, for predictions p and
/// observations o of the same shape.
/// </summary>
/// <remarks>
/// Keeps the residuals r = o − p from the forward pass. ∂SSR/∂pᵢ = −2rᵢ, ∂SSR/∂oᵢ = 2rᵢ (times 1/n for MSE).
/// </remarks>
internal sealed class SquaredErrorOp<T> : Op<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> predicted;
    private readonly Tensor<T> observed;
    private readonly T[] residuals;
    private readonly T scale;

    public SquaredErrorOp(Tensor<T> predicted, Tensor<T> observed, bool mean)
        : base(mean ? "mse" : "ssr", Shape.Scalar, predicted, observed)
    {
        if (predicted.Shape != observed.Shape)
        {
            throw new ArgumentException($"Predictions have shape {predicted.Shape} but observed values have shape {observed.Shape}.");
        }
        this.predicted = predicted;
        this.observed = observed;
        residuals = new T[predicted.Length];
        scale = mean ? T.One / T.CreateChecked(predicted.Length) : T.One;
    }

    public override void Forward()
    {
        TensorPrimitives.Subtract(observed.Data, predicted.Data, residuals);
        Output.Data[0] = TensorPrimitives.SumOfSquares<T>(residuals) * scale;
    }

    // d/dp Σ (o − p)²·c = −2c(o − p); d/do = 2c(o − p)
    public override void Backward()
    {
        var twice = (T.One + T.One) * scale * Output.GradData[0];
        if (predicted.RequiresGrad)
        {
            TensorPrimitives.MultiplyAdd(residuals, -twice, predicted.GradData, predicted.GradData);
        }
        if (observed.RequiresGrad)
        {
            TensorPrimitives.MultiplyAdd(residuals, twice, observed.GradData, observed.GradData);
        }
    }
}
