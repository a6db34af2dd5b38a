using System.Numerics;
using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>
/// Gradient descent with momentum (PyTorch's form): v ← μ·v + g; new value = old value − lr·v.
/// </summary>
/// <remarks>With <see cref="Optimizer{T}.WeightDecay"/> λ, g is g + λ·w (L2, PyTorch's SGD <c>weight_decay</c>).</remarks>
public sealed class Momentum<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T mu;
    private readonly T[]?[] velocities;

    /// <summary>Creates the optimizer; <paramref name="momentum"/> μ is in [0, 1).</summary>
    public Momentum(IEnumerable<Parameter<T>> parameters, double learningRate, double momentum = 0.9)
        : base(parameters, learningRate)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        }
        mu = T.CreateChecked(momentum);
        MomentumFactor = momentum;
        velocities = NewStateStore();
    }

    /// <summary>The momentum factor μ.</summary>
    public double MomentumFactor { get; }

    /// <inheritdoc/>
    public override string Name => "momentum";

    /// <inheritdoc/>
    protected override IReadOnlyList<(string Kind, T[]?[] Store)> StateStores => [("velocity", velocities)];

    private protected override bool SupportsChunks => true;

    private protected override void PrepareChunks(int index) => State(velocities, index);

    private protected override T UpdateChunk(int index, Span<T> values, ReadOnlySpan<T> gradients, int start, T gradientMaxMagnitude)
        => OptimizerKernels.Momentum(values, gradients, velocities[index].AsSpan(start, values.Length), Rate, mu);

    /// <inheritdoc/>
    protected override double Update(int index, Span<T> values, ReadOnlySpan<T> gradients, ReadOnlySpan<bool> trainable)
    {
        var v = State(velocities, index);
        var lr = Rate;
        var largest = T.Zero;
        for (var i = 0; i < values.Length; i++)
        {
            if (trainable[i])
            {
                v[i] = (mu * v[i]) + gradients[i];
                var stepSize = lr * v[i];
                values[i] -= stepSize;
                largest = T.Max(largest, T.Abs(stepSize));
            }
        }
        return double.CreateChecked(largest);
    }
}
