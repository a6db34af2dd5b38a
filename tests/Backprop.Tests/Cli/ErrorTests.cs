using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// Every bad input: exit code 2, nothing on stdout, one line on stderr that starts with "backprop:"
/// and says what is wrong — never a stack trace.
/// </summary>
public sealed class ErrorTests
{
    /// <summary>
    /// <paramref name="args"/> are separated by spaces; <paramref name="mentions"/> lists, separated
    /// by '|', what the message must say.
    /// </summary>
    [Theory]
    [InlineData("--bogus", "'--bogus'|backprop --help")]
    [InlineData("train --bogus", "'--bogus'|backprop train --help")]
    [InlineData("extra", "'extra'")]
    [InlineData("--lr 0", "--lr|positive|got 0")]
    [InlineData("--lr -1", "--lr|positive|got -1")]
    [InlineData("--lr abc", "--lr|'abc'")]
    [InlineData("--lr NaN", "--lr|NaN")]
    [InlineData("--lr Infinity", "--lr|Infinity")]
    [InlineData("--learning-rate 0", "--lr|got 0")]
    [InlineData("--lr", "--lr")]
    [InlineData("--max-steps -1", "--max-steps|got -1")]
    [InlineData("--max-steps abc", "--max-steps|'abc'")]
    [InlineData("--max-steps 1.5", "--max-steps|'1.5'")]
    [InlineData("--min-step -1", "--min-step|got -1")]
    [InlineData("--min-step abc", "--min-step|'abc'")]
    [InlineData("--target-loss NaN", "--target-loss|NaN")]
    [InlineData("--target-loss -Infinity", "--target-loss|finite|-Infinity")]
    [InlineData("--target-loss abc", "--target-loss|'abc'")]
    [InlineData("--batch 0", "--batch|got 0")]
    [InlineData("--batch -2", "--batch|got -2")]
    [InlineData("--batch two", "--batch|'two'")]
    [InlineData("--seed -1", "--seed|'-1'")]
    [InlineData("--layers 1,x,1", "--layers|'x'")]
    [InlineData("--layers 1,0,1", "--layers|'0'")]
    [InlineData("--layers 1", "--layers|'1'")]
    [InlineData("--layers 2,2,1", "--layers|2 inputs|dosage|1 input column")]
    [InlineData("--layers 1,2,3", "--layers|3 outputs|dosage|1 target column")]
    [InlineData("--activation foo", "'foo'|softplus|relu|sigmoid|tanh")]
    [InlineData("--loss foo", "'foo'|ssr|mse|cross-entropy")]
    [InlineData("--optimizer foo", "'foo'|gd|momentum|adam")]
    [InlineData("--init foo", "'foo'|lesson|normal|xavier|he")]
    [InlineData("--init lesson --layers 1,3,1", "--init lesson|1,2,1|1,3,1")]
    [InlineData("--only w9", "'w9'|w1|b1|w2|b2|w3|w4|b3")]
    [InlineData("--only b3,w9", "'w9'")]
    [InlineData("--only ,", "--only")]
    [InlineData("--stage 4", "stage 4|1, 2 and 3")]
    [InlineData("--stage 0", "stage 0")]
    [InlineData("--stage x", "--stage|'x'")]
    [InlineData("--stage 1 --only b3", "--stage|--only")]
    [InlineData("--stage 1 --init normal", "--stage|--init")]
    [InlineData("--stage 1 --layers 1,3,1", "--stage|1,2,1|1,3,1")]
    [InlineData("--loss cross-entropy", "cross-entropy|--layers")]
    [InlineData("train --lr 0", "--lr")]
    [InlineData("--max-steps 99999999999", "--max-steps|'99999999999', which is too large")]
    [InlineData("--seed 99999999999999999999999", "--seed|which is too large")]
    [InlineData("--layers 1,2147483647,1", "--layers 1,2147483647,1|2147483647 weights|more than one array can hold")]
    [InlineData("--layers 1,50000,50000,1", "50000 to 50000 units|2500000000 weights")]
    [InlineData("--layers 1,46000,46000,46000,46000,46000,46000,46000,46000,46000,46000,1", "--layers 1,46000|parameters that needs about|MiB to train on 3 rows at a time; this machine has")]
    [InlineData("explain --layers 1,1000,1000,1", "explain|3012003 for this network and data|at most 2000000|--layers")]
    [InlineData("gradcheck --layers 1,1000,1000,1", "gradcheck|1004001 parameters and 3 rows|3E+12 multiply-adds|at most 1E+10|--layers")]
    [InlineData("bench --quick --smoke", "--quick|--smoke|give one of them")]
    public void Bad_input_gives_one_line_naming_the_problem(string args, string mentions)
    {
        var message = AssertBadInput(Run(args.Split(' ')));

        foreach (var mention in mentions.Split('|'))
        {
            Assert.Contains(mention, message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--lr", "abc")]
    [InlineData("--max-steps", "abc")]
    [InlineData("--seed", "-1")]
    [InlineData("--batch", "x")]
    [InlineData("--data", "")]
    public void Unparsable_values_are_described_for_people_not_as_dotnet_types(string option, string value)
    {
        var message = AssertBadInput(Run(option, value));

        Assert.DoesNotContain("System.", message, StringComparison.Ordinal);
        Assert.Contains(option, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_data_file_is_named()
    {
        var path = Path.Combine(Path.GetTempPath(), "backprop-cli-tests-" + Guid.NewGuid().ToString("N"), "no-such-file.csv");

        var message = AssertBadInput(Run("--data", path));
        Assert.Contains(path, message, StringComparison.Ordinal);
        Assert.Contains("cannot read", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ragged_data_file_names_the_file_and_the_line()
    {
        using var csv = new TempCsv("dose,effect\n0,0\n0.5\n1,0\n");

        var message = AssertBadInput(Run("--data", csv.Path));
        Assert.Contains($"{csv.Path}:3:", message, StringComparison.Ordinal);
        Assert.Contains("line 1 has 2", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_file_with_a_word_among_the_numbers_names_the_line_column_and_word()
    {
        using var csv = new TempCsv("0,0\n0.5,high\n1,0\n");

        var message = AssertBadInput(Run("--data", csv.Path));
        Assert.Contains($"{csv.Path}:2:2:", message, StringComparison.Ordinal);
        Assert.Contains("'high'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("dose,effect\n", "no data rows")]
    [InlineData("1\n2\n", "two columns")]
    public void Unusable_data_file_is_named_with_the_reason(string contents, string reason)
    {
        using var csv = new TempCsv(contents);

        var message = AssertBadInput(Run("--data", csv.Path));
        Assert.Contains(csv.Path, message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_file_with_more_inputs_than_layers_names_the_mismatch()
    {
        using var csv = new TempCsv("0,0,0\n1,1,1\n", "two-inputs.csv");

        var message = AssertBadInput(Run("--data", csv.Path, "--layers", "1,2,1"));
        Assert.Contains("two-inputs.csv", message, StringComparison.Ordinal);
        Assert.Contains("2 input columns", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_with_json_still_writes_nothing_on_stdout()
    {
        AssertBadInput(Run("--json", "--lr", "0"));
        AssertBadInput(Run("--json", "--only", "w9"));
    }
}
