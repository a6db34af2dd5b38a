using System.Globalization;
using Backprop.Serialization;
using Backprop.Tests.Serialization;

namespace Backprop.Tests.Distributed;

/// <summary>
/// What the tests of the command on several processes share: their data, their runs, their timeout and
/// their bound. <see cref="DistributedTrainTests"/>, <see cref="DistributedInterruptTests"/> and
/// <see cref="DistributedKillTests"/> are classes of their own, as their runs mostly wait on mpirun, beside each other.
/// </summary>
public abstract class DistributedCommandTests
{
    private protected static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private protected static string Data(TempFolder folder)
    {
        var csv = folder.File("data.csv");
        var rng = new Rng(7);
        File.WriteAllLines(csv, ["a,b,c,y", .. Enumerable.Range(0, 64).Select(_ =>
        {
            var (a, b, c) = (rng.NextUniform(-1, 1), rng.NextUniform(-1, 1), rng.NextUniform(-1, 1));
            return FormattableString.Invariant($"{a:R},{b:R},{c:R},{Math.Sin(2 * a) + (b * c):R}");
        })]);
        return csv;
    }

    // 64 rows in batches of 8 (4 per process), Adam (or momentum), in double.
    private protected static string[] Training(string csv, int steps, string optimizer = "adam") =>
        ["train", "--data", csv, "--layers", "3,16,8,1", "--activation", "tanh", "--init", "xavier", "--loss", "mse", "--batch", "8",
         "--optimizer", optimizer, "--lr", "0.01", "--max-steps", steps.ToString(CultureInfo.InvariantCulture), "--min-step", "0", "--seed", "3"];

    // A run that goes on until it is signalled or killed, checkpointed every 200 steps.
    private protected static string[] Checkpointed(string csv, string checkpoint, string optimizer = "adam") =>
        [.. Training(csv, 1_000_000, optimizer), "--checkpoint", checkpoint, "--checkpoint-every", "200"];

    private protected static double[] Values(string model) => [.. Model<double>.Load(model).Network.Parameters().SelectMany(p => p.Data.ToArray())];

    private protected static void AssertWithin(double[] expected, double[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= relative * expected.Max(Math.Abs), string.Create(CultureInfo.InvariantCulture, $"largest difference {worst:R}"));
    }
}
