using System.Text;
using Backprop.Data;
using Backprop.Tests.TestUtil;
using Xunit.Abstractions;

namespace Backprop.Tests.Data;

/// <summary>
/// 10,000 seeded mutations of valid CSV files: each is read or refused with one line naming the file —
/// never another exception, never unbounded memory.
/// </summary>
public sealed class CsvFuzzTests(ITestOutputHelper output)
{
    private const string Source = "fuzz/data.csv";

    private static readonly string[] Valid =
    [
        "Dosage,Efficacy\n0,0\n0.5,1\n1,0\n",
        "0,0\n0.5,1\n1,0\n",
        "x1,x2,label\n1.5,2,cat\n-3,4e2,dog\n0,0,cat\n7,8,bird\n",
        "\uFEFFa,b,y\r\n1,2,3\r\n4,5,6\r\n\r\n7,8,9\r\n",
        "\"first, input\",\"say \"\"hi\"\"\",y\n\" 1 \",2,1\n3,\"4\",2\n",
        "h,w,class\n1,2,1\n3,4,2\n5,6,10\n7,8,1\n",
    ];

    private static readonly CsvOptions[] Options =
    [
        new(),
        new() { Target = "1" },
        new() { Target = "y" },
        new() { Target = "label" },
        new() { Classification = true },
        new() { Classification = false },
        new() { HasHeader = true },
        new() { HasHeader = false, Target = "2" },
    ];

    [Fact]
    public void Ten_thousand_mutated_csv_files_are_read_or_refused_with_one_line()
    {
        var mutator = new Mutator(seed: 8);
        var options = Options[0];

        var outcome = Fuzz.Run(10_000, i =>
        {
            options = Options[mutator.Rng.NextInt(Options.Length)];
            var bytes = Encoding.UTF8.GetBytes(mutator.Csv(Valid[i % Valid.Length]));
            return mutator.Rng.NextInt(4) == 0 ? mutator.Bytes(bytes) : bytes;
        }, bytes => CsvDataset.Parse(bytes, Source, options), Source);

        output.WriteLine($"{outcome.Inputs} inputs in {outcome.Elapsed.TotalSeconds:F2} s: {outcome.Read} read, {outcome.Refused} refused");
        // Both kinds must occur, or the mutations are too timid (or too destructive) to test anything.
        Assert.True(outcome.Read > 500 && outcome.Refused > 500, $"{outcome.Read} read, {outcome.Refused} refused");
    }
}
