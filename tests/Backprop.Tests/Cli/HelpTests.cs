using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>--help</c> succeeds and lists the options a user needs.</summary>
public sealed class HelpTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("train --help")]
    [InlineData("train -h")]
    public void Help_exits_0_and_lists_the_options(string args)
    {
        var run = Run(args.Split(' '));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Contains("Usage:", run.Stdout, StringComparison.Ordinal);
        foreach (var option in (string[])["--data", "--layers", "--lr", "--only", "--stage", "--json", "--max-steps", "--min-step", "--optimizer", "--loss", "--activation", "--init", "--seed", "--batch", "--target-loss"])
        {
            Assert.Contains(option, run.Stdout, StringComparison.Ordinal);
        }
        // Help only: no training happened.
        Assert.DoesNotContain("Stopped after", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_names_the_command_backprop_and_its_train_subcommand()
    {
        Assert.Contains("backprop [command] [options]", Run("--help").Stdout, StringComparison.Ordinal);
        Assert.Contains("train", Run("--help").Stdout, StringComparison.Ordinal);
        Assert.Contains("backprop train [options]", Run("train", "--help").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_shows_the_lessons_defaults()
    {
        var help = Run("--help").Stdout;

        Assert.Matches(@"--lr <RATE>\s+Learning rate \[default: 0\.1\]", help);
        Assert.Matches(@"--max-steps <N>.*\[default: 1000\]", help);
        Assert.Matches(@"--min-step <SIZE>.*\[default: 0\.001\]", help);
    }

    [Theory]
    [InlineData("explain", "--step|--param|--view|--json|--data|--layers|--lr|--only|--stage|--optimizer|--max-steps")]
    [InlineData("gradcheck", "--tolerance|--epsilon|--json|--data|--layers|--activation|--loss|--init|--seed")]
    [InlineData("graph", "--point|--output|--svg|--data|--layers|--activation|--init")]
    [InlineData("train", "--monitor")]
    public void Diagnostic_commands_list_their_own_options_and_trains_network_options(string command, string options)
    {
        var run = Run(command, "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"backprop {command} [options]", run.Stdout, StringComparison.Ordinal);
        foreach (var option in options.Split('|'))
        {
            Assert.Contains(option, run.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains(command, Run("--help").Stdout, StringComparison.Ordinal);
    }
}
