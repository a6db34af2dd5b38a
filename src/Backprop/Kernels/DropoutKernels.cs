using System.Numerics;

namespace Backprop.Kernels;

/// <summary>Drawing dropout masks.</summary>
public static class DropoutKernels
{
    /// <summary>
    /// Fills <paramref name="mask"/> with an inverted-dropout mask: each element is 0 with probability
    /// <paramref name="probability"/> and 1/(1 − p) otherwise, so that the mask's expected value is 1.
    /// </summary>
    /// <remarks>
    /// Element i is dropped when the i-th draw of <paramref name="generator"/>'s
    /// <see cref="Rng.NextDouble"/> is below p: one draw per element, in order, on the calling thread,
    /// so the mask depends only on the generator's state, never on the thread count.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1).</exception>
    public static void DrawMask<T>(Rng generator, double probability, Span<T> mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!(probability is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A dropout probability must be at least 0 and below 1.");
        }
        var kept = T.CreateChecked(1 / (1 - probability));
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = generator.NextDouble() < probability ? T.Zero : kept;
        }
    }
}
