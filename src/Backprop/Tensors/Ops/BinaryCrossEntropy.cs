using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>
/// Binary cross-entropy on logits as one op (PyTorch's BCEWithLogitsLoss, mean over all n values):
/// for a logit z and a target y in [0, 1], ℓ = −[y·log σ(z) + (1 − y)·log(1 − σ(z))].
/// </summary>
/// <remarks>
/// Computed as ℓ = max(z, 0) − z·y + log1p(e^−|z|) = SoftPlus(z) − z·y, which neither overflows nor
/// loses the loss of a confident wrong answer (log σ(z) of a large negative z would round to log 0).
/// ∂ℓ/∂z = σ(z) − y (σ kept from the forward pass, where SoftPlus gives it); ∂ℓ/∂y = −z.
/// </remarks>
internal sealed class BinaryCrossEntropyOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> logits;
    private readonly Tensor<T> targets;
    private readonly T[] softPlus;
    private readonly T[] sigmoid;
    private readonly T scale;

    public BinaryCrossEntropyOp(Tensor<T> logits, Tensor<T> targets)
        : base("binary_cross_entropy", Shape.Scalar, logits, targets)
    {
        if (logits.Shape != targets.Shape)
        {
            throw new ArgumentException($"Predictions have shape {logits.Shape} but observed values have shape {targets.Shape}.");
        }
        this.logits = logits;
        this.targets = targets;
        softPlus = new T[logits.Length];
        sigmoid = new T[logits.Length];
        scale = T.One / T.CreateChecked(Math.Max(logits.Length, 1));
    }

    public override void Forward()
    {
        ReadOnlySpan<T> z = logits.Data, y = targets.Data;
        ActivationKernels.SoftPlus(z, softPlus, sigmoid);
        var sum = T.Zero;
        for (var i = 0; i < z.Length; i++)
        {
            sum += softPlus[i] - (z[i] * y[i]);
        }
        Output.Data[0] = sum * scale;
    }

    // dℓ/dz = σ(z) − y; dℓ/dy = −z
    public override void Backward()
    {
        var g = scale * Output.GradData[0];
        ReadOnlySpan<T> z = logits.Data, y = targets.Data;
        if (logits.RequiresGrad)
        {
            var dz = logits.GradData;
            for (var i = 0; i < z.Length; i++)
            {
                dz[i] += g * (sigmoid[i] - y[i]);
            }
        }
        if (targets.RequiresGrad)
        {
            var dy = targets.GradData;
            for (var i = 0; i < z.Length; i++)
            {
                dy[i] -= g * z[i];
            }
        }
    }
}
