using System.Numerics;
using Backprop.Nn;
using Backprop.Tensors.Ops;

namespace Backprop.Tensors;

/// <summary>
/// The differentiable operations on tensors. Each records itself when gradients are wanted; its
/// derivative rule sits beside its forward computation in <c>Tensors/Ops</c>.
/// </summary>
public static partial class TensorOps
{
    /// <summary>a + b element-wise; b (or a) may be a row broadcast over rows, or a single value.</summary>
    public static Tensor<T> Add<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => BinaryOp<T, AddRule<T>>.Create(a, b).Run();

    /// <summary>a − b element-wise, with the same broadcasting as <see cref="Add{T}"/>.</summary>
    public static Tensor<T> Subtract<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => BinaryOp<T, SubtractRule<T>>.Create(a, b).Run();

    /// <summary>a · b element-wise, with the same broadcasting as <see cref="Add{T}"/>.</summary>
    public static Tensor<T> Multiply<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => BinaryOp<T, MultiplyRule<T>>.Create(a, b).Run();

    /// <summary>c · x for a constant c; <c>x / c</c> and <c>−x</c> use it too.</summary>
    public static Tensor<T> Scale<T>(Tensor<T> x, T factor) where T : unmanaged, IFloatingPointIeee754<T>
        => new ScaleOp<T>(Checked(x), factor).Run();

    /// <summary>x / c for a constant c.</summary>
    public static Tensor<T> Divide<T>(Tensor<T> x, T divisor) where T : unmanaged, IFloatingPointIeee754<T>
        => Scale(x, T.One / divisor);

    /// <summary>The matrix product A·B of A [m, k] and B [k, n].</summary>
    public static Tensor<T> MatMul<T>(this Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => new MatMulOp<T>(Checked(a), Checked(b)).Run();

    /// <summary>
    /// x·W + b for x [rows, inputs], W [inputs, outputs] and b [outputs] (one row added to every row),
    /// recorded as one operation.
    /// </summary>
    public static Tensor<T> Linear<T>(this Tensor<T> x, Tensor<T> weight, Tensor<T> bias) where T : unmanaged, IFloatingPointIeee754<T>
        => Linear<T, IdentityRule<T>>(x, weight, bias);

    /// <summary>f(x·W + b) as one operation, f applied in place and its derivative in place on the way back.</summary>
    internal static Tensor<T> Linear<T, TActivation>(Tensor<T> x, Tensor<T> weight, Tensor<T> bias)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TActivation : struct, IActivationRule<T>
        => new LinearOp<T, TActivation>(Checked(x), Checked(weight), Checked(bias)).Run();

    /// <summary>The sum of squared residuals Σᵢ (observedᵢ − predictedᵢ)²: a scalar, recorded as one operation.</summary>
    public static Tensor<T> SumSquaredResiduals<T>(Tensor<T> predicted, Tensor<T> observed) where T : unmanaged, IFloatingPointIeee754<T>
        => new SquaredErrorOp<T>(Checked(predicted), Checked(observed), mean: false).Run();

    /// <summary>The mean squared error (1/n) Σᵢ (observedᵢ − predictedᵢ)² over all n values: a scalar, recorded as one operation.</summary>
    public static Tensor<T> MeanSquaredError<T>(Tensor<T> predicted, Tensor<T> observed) where T : unmanaged, IFloatingPointIeee754<T>
        => new SquaredErrorOp<T>(Checked(predicted), Checked(observed), mean: true).Run();

    /// <summary>The mean absolute error (1/n) Σᵢ |observedᵢ − predictedᵢ| over all n values: a scalar, recorded as one operation.</summary>
    public static Tensor<T> MeanAbsoluteError<T>(Tensor<T> predicted, Tensor<T> observed) where T : unmanaged, IFloatingPointIeee754<T>
        => new AbsoluteErrorOp<T>(Checked(predicted), Checked(observed)).Run();

    /// <summary>
    /// The Huber loss (1/n) Σᵢ ℓ(predictedᵢ − observedᵢ) with ℓ(r) = r²/2 for |r| &lt; δ, else δ(|r| − δ/2):
    /// a scalar, recorded as one operation (PyTorch's HuberLoss).
    /// </summary>
    public static Tensor<T> Huber<T>(Tensor<T> predicted, Tensor<T> observed, T delta) where T : unmanaged, IFloatingPointIeee754<T>
        => new HuberOp<T>(Checked(predicted), Checked(observed), delta).Run();

    /// <summary>
    /// Binary cross-entropy on logits (1/n) Σᵢ [max(zᵢ, 0) − zᵢyᵢ + log1p(e^−|zᵢ|)] for logits z and
    /// targets y in [0, 1]: a scalar, recorded as one operation (PyTorch's BCEWithLogitsLoss).
    /// </summary>
    public static Tensor<T> BinaryCrossEntropyWithLogits<T>(Tensor<T> logits, Tensor<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
        => new BinaryCrossEntropyOp<T>(Checked(logits), Checked(targets)).Run();

    /// <summary>Σ x over all elements: a scalar.</summary>
    public static Tensor<T> Sum<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new SumOp<T>(Checked(x), mean: false).Run();

    /// <summary>(Σ x)/n over all n elements: a scalar.</summary>
    public static Tensor<T> Mean<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new SumOp<T>(Checked(x), mean: true).Run();

    /// <summary>x² element-wise.</summary>
    public static Tensor<T> Square<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, SquareRule<T>>(Checked(x)).Run();

    /// <summary>eˣ element-wise.</summary>
    public static Tensor<T> Exp<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, ExpRule<T>>(Checked(x)).Run();

    /// <summary>The natural logarithm element-wise.</summary>
    public static Tensor<T> Log<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, LogRule<T>>(Checked(x)).Run();

    /// <summary>SoftPlus(x) = log(1 + eˣ) element-wise, stable for large |x|.</summary>
    public static Tensor<T> SoftPlus<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, SoftPlusRule<T>>(Checked(x)).Run();

    /// <summary>ReLU(x) = max(x, 0) element-wise.</summary>
    public static Tensor<T> Relu<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, ReluRule<T>>(Checked(x)).Run();

    /// <summary>σ(x) = 1/(1 + e^−x) element-wise, stable for large |x|.</summary>
    public static Tensor<T> Sigmoid<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, SigmoidRule<T>>(Checked(x)).Run();

    /// <summary>tanh(x) element-wise.</summary>
    public static Tensor<T> Tanh<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, TanhRule<T>>(Checked(x)).Run();

    /// <summary>x unchanged, recorded as an operation (the output layer of a regression network).</summary>
    public static Tensor<T> Identity<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new UnaryOp<T, IdentityRule<T>>(Checked(x)).Run();

    /// <summary>
    /// Mean cross-entropy of softmax(<paramref name="logits"/>) against <paramref name="target"/>:
    /// class indices [rows] or probabilities [rows, classes]. Computed with log-sum-exp.
    /// </summary>
    public static Tensor<T> SoftmaxCrossEntropy<T>(this Tensor<T> logits, Tensor<T> target) where T : unmanaged, IFloatingPointIeee754<T>
        => new SoftmaxCrossEntropyOp<T>(Checked(logits), Checked(target)).Run();

    /// <summary>
    /// The same elements seen with the shape <paramref name="shape"/> (one size may be −1: whatever makes
    /// the element count match). A view: no copy; gradients flow back unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">The element counts differ, or a size is zero or negative.</exception>
    public static Tensor<T> Reshape<T>(this Tensor<T> x, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new ReshapeOp<T>(Checked(x), ReshapeOp<T>.Resolve(x.Shape, shape)).Run();
    }

    /// <summary>[N, d₁, d₂, …] seen as [N, d₁·d₂·…]: one row per example, a view as <see cref="Reshape{T}"/> is.</summary>
    /// <exception cref="ArgumentException">The tensor has rank 0.</exception>
    public static Tensor<T> Flatten<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Checked(x).Shape.Rank == 0)
        {
            throw new ArgumentException("Flatten keeps the first dimension (the batch); a scalar has none.", nameof(x));
        }
        return Reshape(x, x.Shape[0], x.Length / x.Shape[0]);
    }

    /// <summary>
    /// 2-D convolution (strictly, cross-correlation, as in PyTorch) of images <paramref name="x"/> [N, C, H, W]
    /// with kernels <paramref name="weight"/> [O, C, KH, KW] plus an optional <paramref name="bias"/> [O]:
    /// y[n, o, oy, ox] = b[o] + Σ_c,i,j W[o, c, i, j] · x[n, c, oy·s − p + i, ox·s − p + j], zero outside the image.
    /// The output is [N, O, ⌊(H + 2p − KH)/s⌋ + 1, ⌊(W + 2p − KW)/s⌋ + 1]. Runs on the packed GEMM (im2col).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together, or the kernel is larger than the padded image.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stride is below 1 or the padding negative.</exception>
    public static Tensor<T> Conv2d<T>(this Tensor<T> x, Tensor<T> weight, Tensor<T>? bias = null, int stride = 1, int padding = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Conv2d<T, IdentityRule<T>>(x, weight, bias, stride, padding);

    /// <summary>f(conv(x, W) + b) as one operation, f applied in place and its derivative in place on the way back.</summary>
    internal static Tensor<T> Conv2d<T, TActivation>(Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, int stride, int padding)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TActivation : struct, IActivationRule<T>
        => new Conv2dOp<T, TActivation>(Checked(x), Checked(weight), bias, stride, padding).Run();

    /// <summary>
    /// Max pooling of images [N, C, H, W] over <paramref name="kernel"/>×<paramref name="kernel"/> windows
    /// moved by <paramref name="stride"/> (default: the kernel size), no padding; NaN in a window gives NaN.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not [N, C, H, W], or the window is larger than the image.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The kernel size or stride is below 1.</exception>
    public static Tensor<T> MaxPool2d<T>(this Tensor<T> x, int kernel, int? stride = null) where T : unmanaged, IFloatingPointIeee754<T>
        => new MaxPool2dOp<T>(Checked(x), Pooling.Geometry(x, kernel, stride ?? kernel, "Max pooling")).Run();

    /// <summary>
    /// Average pooling of images [N, C, H, W] over <paramref name="kernel"/>×<paramref name="kernel"/> windows
    /// moved by <paramref name="stride"/> (default: the kernel size), no padding.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not [N, C, H, W], or the window is larger than the image.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The kernel size or stride is below 1.</exception>
    public static Tensor<T> AvgPool2d<T>(this Tensor<T> x, int kernel, int? stride = null) where T : unmanaged, IFloatingPointIeee754<T>
        => new AvgPool2dOp<T>(Checked(x), Pooling.Geometry(x, kernel, stride ?? kernel, "Average pooling")).Run();

    /// <summary>The mean of each channel of images [N, C, H, W]: a tensor [N, C].</summary>
    /// <exception cref="ArgumentException">The tensor is not [N, C, H, W].</exception>
    public static Tensor<T> GlobalAvgPool<T>(this Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => new GlobalAvgPoolOp<T>(Checked(x)).Run();

    private static Tensor<T> Checked<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        return x;
    }
}
