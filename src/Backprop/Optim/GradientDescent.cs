using System.Numerics;
using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>
/// The lesson's rule: step size = learning rate × derivative; new value = old value − step size.
/// </summary>
public sealed class GradientDescent<T>(IEnumerable<Parameter<T>> parameters, double learningRate)
    : Optimizer<T>(parameters, learningRate) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T lr = T.CreateChecked(learningRate);

    /// <inheritdoc/>
    protected override double Update(int index, Span<T> values, ReadOnlySpan<T> gradients, ReadOnlySpan<bool> trainable)
    {
        if (!trainable.Contains(false))
        {
            // Every number trained: the same rule, element for element, in vector lanes, in one pass.
            return double.CreateChecked(OptimizerKernels.GradientDescent(values, gradients, lr));
        }
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
