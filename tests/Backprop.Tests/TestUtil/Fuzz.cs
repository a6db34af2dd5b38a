using System.Text;

namespace Backprop.Tests.TestUtil;

/// <summary>
/// Runs a reader on many mutated inputs and checks what a user would see: either it reads the input,
/// or it raises <see cref="BackpropException"/> with one line that names the file — never another
/// exception, and never more memory than a bound, whatever sizes the input claims.
/// </summary>
internal static class Fuzz
{
    /// <summary>The most one input may make the reader allocate: far above any input here (a few kB), far below what a claimed size could ask for.</summary>
    public const long MaxAllocatedBytes = 64L << 20;

    /// <summary>What a run saw: how many inputs were read, and how many were refused with a message.</summary>
    public sealed record Outcome(int Read, int Refused, int Inputs, TimeSpan Elapsed);

    /// <summary>
    /// Feeds <paramref name="inputs"/> inputs, made by <paramref name="next"/>(i), to <paramref name="read"/>; every
    /// message must start with one of <paramref name="sources"/>.
    /// </summary>
    public static Outcome Run(int inputs, Func<int, byte[]> next, Action<byte[]> read, params string[] sources)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var (ok, refused) = (0, 0);
        for (var i = 0; i < inputs; i++)
        {
            var input = next(i);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(input);
                ok++;
            }
            catch (BackpropException e)
            {
                refused++;
                Assert.True(e.Message.Length > 0, Describe(i, input, "an empty message"));
                Assert.True(e.Message.IndexOfAny(['\n', '\r']) < 0, Describe(i, input, $"a message of several lines: {e.Message}"));
                Assert.True(sources.Any(s => e.Message.StartsWith(s + ":", StringComparison.Ordinal) || e.Message.StartsWith(s + " ", StringComparison.Ordinal)),
                    Describe(i, input, $"a message that does not name the file: {e.Message}"));
            }
#pragma warning disable CA1031 // Any other exception is the failure this test looks for.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Assert.Fail(Describe(i, input, e.ToString()));
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < MaxAllocatedBytes, Describe(i, input, $"{allocated} bytes allocated"));
        }
        return new Outcome(ok, refused, inputs, started.Elapsed);
    }

    private static string Describe(int index, byte[] input, string problem)
    {
        var shown = input.Length <= 512 ? Convert.ToHexString(input) : Convert.ToHexString(input, 0, 512) + "…";
        return $"input {index} ({input.Length} bytes) gave {problem}\nhex: {shown}\ntext: {Encoding.UTF8.GetString(input, 0, Math.Min(input.Length, 512))}";
    }
}
