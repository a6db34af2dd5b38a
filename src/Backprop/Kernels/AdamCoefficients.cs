using System.Numerics;

namespace Backprop.Kernels;

/// <summary>
/// The constants of one Adam step, each computed in double and rounded to <typeparamref name="T"/>
/// once (see <see cref="Create"/>).
/// </summary>
/// <remarks>
/// NOTE: the rule is "compute in double, then round". 1 − β₂ taken in float from β₂ already rounded to
/// float is 1.3e-5 off (relative) for β₂ = 0.999, because the rounding error of β₂ becomes a large part
/// of the small difference; rounding 1 − 0.999 computed in double gives the float nearest 0.001.
/// </remarks>
/// <param name="LearningRate">lr.</param>
/// <param name="Beta1">β₁.</param>
/// <param name="Beta2">β₂.</param>
/// <param name="OneMinusBeta1">1 − β₁.</param>
/// <param name="OneMinusBeta2">1 − β₂.</param>
/// <param name="C1">The bias correction 1 − β₁ᵗ.</param>
/// <param name="C2">The bias correction 1 − β₂ᵗ.</param>
/// <param name="Epsilon">ε.</param>
/// <param name="Decay">The decoupled weight decay's factor 1 − lr·λ (AdamW); 1 for none.</param>
public readonly record struct AdamCoefficients<T>(T LearningRate, T Beta1, T Beta2, T OneMinusBeta1, T OneMinusBeta2, T C1, T C2, T Epsilon, T Decay)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The constants of step <paramref name="step"/> (1 for the first), each computed in double and then rounded.</summary>
    public static AdamCoefficients<T> Create(double learningRate, double beta1, double beta2, double epsilon, int step, double weightDecay = 0)
        => new(
            T.CreateChecked(learningRate),
            T.CreateChecked(beta1),
            T.CreateChecked(beta2),
            T.CreateChecked(1 - beta1),
            T.CreateChecked(1 - beta2),
            T.CreateChecked(1 - Math.Pow(beta1, step)),
            T.CreateChecked(1 - Math.Pow(beta2, step)),
            T.CreateChecked(epsilon),
            T.CreateChecked(1 - (learningRate * weightDecay)));
}
