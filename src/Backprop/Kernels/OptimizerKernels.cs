using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// Span kernels for the optimizers' update rules over parameters whose every number is trained:
/// each updates the values and the optimizer's state in place and returns the largest |step|.
/// </summary>
/// <remarks>
/// The vector loop (<see cref="Vector{T}"/> lanes: 256 bits with AVX2, 128 without) and the scalar
/// tail evaluate the same formula in the same order, with no fused multiply-add, and square root
/// and division are correctly rounded in both; so every element gets the same bits as the scalar
/// rule, on every instruction set. The largest step is NaN when any step is NaN, as
/// <c>T.Max</c> would give in a scalar loop.
/// </remarks>
[SkipLocalsInit]
public static class OptimizerKernels
{
    /// <summary>
    /// Adam (AdamW with a decay factor below 1) for one parameter: m ← β₁m + (1 − β₁)g;
    /// v ← β₂v + (1 − β₂)g·g; step = lr·(m/c₁)/(√(v/c₂) + ε); value ← value·d − step, with the
    /// constants of <paramref name="k"/> (bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ, decay factor
    /// d = 1 − lr·λ, exactly 1 without decay). Returns the largest |step| (the decay's shrink not counted).
    /// </summary>
    public static T Adam<T>(Span<T> values, ReadOnlySpan<T> gradients, Span<T> firstMoments, Span<T> secondMoments, in AdamCoefficients<T> k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = values.Length;
        CheckLength(gradients.Length, n);
        CheckLength(firstMoments.Length, n);
        CheckLength(secondMoments.Length, n);
        ref var x = ref MemoryMarshal.GetReference(values);
        ref var g = ref MemoryMarshal.GetReference(gradients);
        ref var m = ref MemoryMarshal.GetReference(firstMoments);
        ref var v = ref MemoryMarshal.GetReference(secondMoments);
        T learningRate = k.LearningRate, beta1 = k.Beta1, beta2 = k.Beta2, oneMinusBeta1 = k.OneMinusBeta1, oneMinusBeta2 = k.OneMinusBeta2;
        T c1 = k.C1, c2 = k.C2, epsilon = k.Epsilon, decay = k.Decay;
        var largest = T.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && n >= Vector<T>.Count)
        {
            var width = Vector<T>.Count;
            Vector<T> lr = new(learningRate), b1 = new(beta1), b2 = new(beta2), ob1 = new(oneMinusBeta1), ob2 = new(oneMinusBeta2);
            Vector<T> cc1 = new(c1), cc2 = new(c2), eps = new(epsilon), d = new(decay);
            var top = Vector<T>.Zero;
            var nan = Vector<T>.Zero;
            for (; i <= n - width; i += width)
            {
                var gi = Vector.LoadUnsafe(ref g, (nuint)i);
                var mi = (b1 * Vector.LoadUnsafe(ref m, (nuint)i)) + (ob1 * gi);
                var vi = (b2 * Vector.LoadUnsafe(ref v, (nuint)i)) + (ob2 * gi * gi);
                var step = lr * (mi / cc1) / (Vector.SquareRoot(vi / cc2) + eps);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                (Vector.LoadUnsafe(ref x, (nuint)i) * d).StoreUnsafe(ref x, (nuint)i);
                Apply(ref x, i, step, ref top, ref nan);
            }
            largest = Reduce(top, nan);
        }
        for (; i < n; i++)
        {
            var gi = Unsafe.Add(ref g, i);
            ref var mi = ref Unsafe.Add(ref m, i);
            ref var vi = ref Unsafe.Add(ref v, i);
            mi = (beta1 * mi) + (oneMinusBeta1 * gi);
            vi = (beta2 * vi) + (oneMinusBeta2 * gi * gi);
            var step = learningRate * (mi / c1) / (T.Sqrt(vi / c2) + epsilon);
            ref var xi = ref Unsafe.Add(ref x, i);
            xi = (xi * decay) - step;
            largest = T.Max(largest, T.Abs(step));
        }
        return largest;
    }

    /// <summary>
    /// Momentum (PyTorch's form) for one parameter: v ← μ·v + g; step = lr·v; value ← value − step.
    /// Returns the largest |step|.
    /// </summary>
    public static T Momentum<T>(Span<T> values, ReadOnlySpan<T> gradients, Span<T> velocities, T learningRate, T momentum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = values.Length;
        CheckLength(gradients.Length, n);
        CheckLength(velocities.Length, n);
        ref var x = ref MemoryMarshal.GetReference(values);
        ref var g = ref MemoryMarshal.GetReference(gradients);
        ref var v = ref MemoryMarshal.GetReference(velocities);
        var largest = T.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && n >= Vector<T>.Count)
        {
            var width = Vector<T>.Count;
            Vector<T> lr = new(learningRate), mu = new(momentum);
            var top = Vector<T>.Zero;
            var nan = Vector<T>.Zero;
            for (; i <= n - width; i += width)
            {
                var vi = (mu * Vector.LoadUnsafe(ref v, (nuint)i)) + Vector.LoadUnsafe(ref g, (nuint)i);
                var step = lr * vi;
                vi.StoreUnsafe(ref v, (nuint)i);
                Apply(ref x, i, step, ref top, ref nan);
            }
            largest = Reduce(top, nan);
        }
        for (; i < n; i++)
        {
            ref var vi = ref Unsafe.Add(ref v, i);
            vi = (momentum * vi) + Unsafe.Add(ref g, i);
            var step = learningRate * vi;
            Unsafe.Add(ref x, i) -= step;
            largest = T.Max(largest, T.Abs(step));
        }
        return largest;
    }

    /// <summary>
    /// Subtracts <paramref name="step"/> from the values at <paramref name="i"/>, and keeps the
    /// largest |step| per lane in <paramref name="top"/> and the lanes where it was NaN in <paramref name="nan"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply<T>(ref T x, int i, Vector<T> step, ref Vector<T> top, ref Vector<T> nan)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        (Vector.LoadUnsafe(ref x, (nuint)i) - step).StoreUnsafe(ref x, (nuint)i);
        var size = Vector.Abs(step);
        top = Vector.Max(top, size);
        nan |= ~Vector.Equals(size, size);
    }

    /// <summary>The largest lane of <paramref name="top"/>, or NaN when a lane of <paramref name="nan"/> is set.</summary>
    private static T Reduce<T>(Vector<T> top, Vector<T> nan) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (nan != Vector<T>.Zero)
        {
            return T.NaN;
        }
        var largest = T.Zero;
        for (var lane = 0; lane < Vector<T>.Count; lane++)
        {
            largest = T.Max(largest, top[lane]);
        }
        return largest;
    }

    private static void CheckLength(int length, int expected)
    {
        if (length != expected)
        {
            throw new ArgumentException($"Every span must have the same length: {length} ≠ {expected}.");
        }
    }
}
