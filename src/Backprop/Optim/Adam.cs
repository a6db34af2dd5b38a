using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>
/// Adam: an adaptive step per number from running averages of the gradient and its square,
/// with bias correction.
/// </summary>
/// <remarks>
/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ);
/// new value = old value − lr·m̂/(√v̂ + ε). Kingma &amp; Ba (2015), "Adam: A Method for Stochastic Optimization".
/// With <see cref="Optimizer{T}.WeightDecay"/> λ it is AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight
/// Decay Regularization", PyTorch's <c>AdamW</c> formula): new value = old value·(1 − lr·λ) − lr·m̂/(√v̂ + ε).
/// Every constant (1 − β, 1 − βᵗ, 1 − lr·λ) is computed in double and then rounded (<see cref="AdamCoefficients{T}"/>).
/// </remarks>
public sealed class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[]?[] firstMoments;
    private readonly T[]?[] secondMoments;
    private readonly double beta1, beta2, epsilon;
    private AdamCoefficients<T> plain, decayed;

    /// <summary>Creates the optimizer with the usual defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8.</summary>
    public Adam(IEnumerable<Parameter<T>> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(parameters, learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β₁ must be in [0, 1).");
        }
        if (!(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β₂ must be in [0, 1).");
        }
        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive.");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        firstMoments = NewStateStore();
        secondMoments = NewStateStore();
    }

    /// <summary>β₁, the decay of the running average of the gradient.</summary>
    public double Beta1 => beta1;

    /// <summary>β₂, the decay of the running average of the squared gradient.</summary>
    public double Beta2 => beta2;

    /// <summary>ε, added to √v̂ so that the step stays finite.</summary>
    public double Epsilon => epsilon;

    /// <inheritdoc/>
    public override string Name => "adam";

    /// <inheritdoc/>
    protected override IReadOnlyList<(string Kind, T[]?[] Store)> StateStores => [("m", firstMoments), ("v", secondMoments)];

    /// <inheritdoc/>
    protected override void BeginStep()
    {
        // One time step t per Step(), shared by all parameters: the bias corrections 1 − βᵗ, and the
        // learning rate as it is now; every constant computed in double, then rounded.
        plain = AdamCoefficients<T>.Create(LearningRate, beta1, beta2, epsilon, StepCount);
        decayed = AdamCoefficients<T>.Create(LearningRate, beta1, beta2, epsilon, StepCount, WeightDecay);
    }

    private protected override bool DecouplesWeightDecay => true;

    private protected override bool SupportsChunks => true;

    private protected override void PrepareChunks(int index)
    {
        State(firstMoments, index);
        State(secondMoments, index);
    }

    // m′ = β₁m + (1 − β₁)g and v′ = β₂v + (1 − β₂)g² are at most max(|m|, |g|) and max(v, g²); the
    // step lr·(m′/c₁)/(√(v′/c₂) + ε) is at most lr·max|m′|/(c₁ε), with c₁ = 1 − β₁ᵗ of the coming step t;
    // AdamW's factor 1 − lr·λ keeps |value| from growing only while it is at most 1 in size.
    private protected override T StepBound(int index, int start, int count, T gradientMaxMagnitude)
    {
        var m = firstMoments[index] is { } first ? T.Abs(TensorPrimitives.MaxMagnitude<T>(first.AsSpan(start, count))) : T.Zero;
        var v = secondMoments[index] is { } second ? T.Abs(TensorPrimitives.MaxMagnitude<T>(second.AsSpan(start, count))) : T.Zero;
        var (m1, v1) = (T.Max(m, gradientMaxMagnitude), T.Max(v, gradientMaxMagnitude * gradientMaxMagnitude));
        if (!T.IsFinite(Four * m1) || !T.IsFinite(Four * v1))
        {
            return T.PositiveInfinity;
        }
        var k = AdamCoefficients<T>.Create(LearningRate, beta1, beta2, epsilon, StepCount + 1, IsDecayed(index) ? WeightDecay : 0);
        return T.Abs(k.Decay) > T.One ? T.PositiveInfinity : k.LearningRate * (m1 / k.C1) / k.Epsilon;
    }

    private static readonly T Four = T.CreateTruncating(4);

    private protected override T UpdateChunk(int index, Span<T> values, ReadOnlySpan<T> gradients, int start, T gradientMaxMagnitude)
        => OptimizerKernels.Adam(values, gradients, firstMoments[index].AsSpan(start, values.Length), secondMoments[index].AsSpan(start, values.Length),
            in IsDecayed(index) ? ref decayed : ref plain);

    /// <inheritdoc/>
    protected override double Update(int index, Span<T> values, ReadOnlySpan<T> gradients, ReadOnlySpan<bool> trainable)
    {
        var m = State(firstMoments, index);
        var v = State(secondMoments, index);
        var k = IsDecayed(index) ? decayed : plain;
        var largest = T.Zero;
        for (var i = 0; i < values.Length; i++)
        {
            if (!trainable[i])
            {
                continue;
            }
            var g = gradients[i];
            m[i] = (k.Beta1 * m[i]) + (k.OneMinusBeta1 * g);
            v[i] = (k.Beta2 * v[i]) + (k.OneMinusBeta2 * g * g);
            var stepSize = k.LearningRate * (m[i] / k.C1) / (T.Sqrt(v[i] / k.C2) + k.Epsilon);
            values[i] = (values[i] * k.Decay) - stepSize;
            largest = T.Max(largest, T.Abs(stepSize));
        }
        return double.CreateChecked(largest);
    }
}
