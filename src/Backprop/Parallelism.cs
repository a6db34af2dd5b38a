namespace Backprop;

/// <summary>How many threads the compute kernels may use.</summary>
/// <remarks>
/// Results do not depend on this setting: the kernels split work by output element, never a sum,
/// so every number is computed by the same operations in the same order at any thread count
/// (see <see cref="Kernels.Gemm"/>). Lower it to leave cores free, or to 1 to measure one core.
/// </remarks>
public static class Parallelism
{
    private static int maxDegreeOfParallelism = Environment.ProcessorCount;

    /// <summary>
    /// The largest number of threads one kernel call uses, counting the calling thread;
    /// defaults to <see cref="Environment.ProcessorCount"/>. Must be at least 1.
    /// </summary>
    public static int MaxDegreeOfParallelism
    {
        get => Volatile.Read(ref maxDegreeOfParallelism);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref maxDegreeOfParallelism, value);
        }
    }
}
