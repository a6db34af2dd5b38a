using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>
/// The lesson's rule: step size = learning rate × derivative; new value = old value − step size.
/// </summary>
/// <remarks>With <see cref="Optimizer{T}.WeightDecay"/> λ the derivative is g + λ·w (L2, PyTorch's SGD <c>weight_decay</c>).</remarks>
public sealed class GradientDescent<T>(IEnumerable<Parameter<T>> parameters, double learningRate)
    : Optimizer<T>(parameters, learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override string Name => "gd";

    /// <inheritdoc/>
    /// <remarks>A step whose size lr·max|g| overflows is refused: the parameters keep their finite values.</remarks>
    protected override bool CanUpdate(int index, T gradientMaxMagnitude) => T.IsFinite(Rate * gradientMaxMagnitude);

    private protected override bool SupportsChunks => true;

    private protected override T UpdateChunk(int index, Span<T> values, ReadOnlySpan<T> gradients, int start, T gradientMaxMagnitude)
    {
        // Every number trained: values − lr·g over whole spans (Update's operations, element for element),
        // and the largest step lr·max|g| (rounding is monotonic, so it is the largest lr·|g|).
        var lr = Rate;
        TensorPrimitives.MultiplyAdd(gradients, -lr, values, values);
        return lr * gradientMaxMagnitude;
    }

    /// <inheritdoc/>
    protected override double Update(int index, Span<T> values, ReadOnlySpan<T> gradients, ReadOnlySpan<bool> trainable)
    {
        var lr = Rate;
        var largest = T.Zero;
        for (var i = 0; i < values.Length; i++)
        {
            if (trainable[i])
            {
                var stepSize = lr * gradients[i];
                values[i] -= stepSize;
                largest = T.Max(largest, T.Abs(stepSize));
            }
        }
        return double.CreateChecked(largest);
    }
}
