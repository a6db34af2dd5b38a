using Backprop.Serialization;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// <c>--resume</c> refuses a checkpoint whose stored options were edited: options a run never records,
/// or options that do not build the network and optimizer whose state it holds. One line each.
/// </summary>
public sealed class ResumeCheckTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("", "its stored options build a 1-2-1 network of 7 numbers but it holds 10 in 4 parameters; the options were edited.")]
    [InlineData("--layers 1,3,1", "it holds adam's state but its stored options train with gd; the options were edited.")]
    [InlineData("--layers 1,3,1 --optimizer adam --plot pictures", "its stored options include --plot, which a resumed run cannot take; the checkpoint was edited.")]
    [InlineData("--layers 1,3,1 --optimizer adam --resume other.ckpt", "its stored options include --resume, which a resumed run cannot take; the checkpoint was edited.")]
    public void An_edited_command_is_refused_in_one_line(string command, string expected)
    {
        var path = folder.File("run.ckpt");
        var run = Run("train", "--layers", "1,3,1", "--optimizer", "adam", "--lr", "0.01", "--max-steps", "5", "--min-step", "0", "--checkpoint", path, "--checkpoint-every", "5", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var saved = (Checkpoint<double>)Checkpoint.Load(path);
        new Checkpoint<double>(saved.State, command.Split(' ', StringSplitOptions.RemoveEmptyEntries), saved.DataFingerprint).Save(path);

        var message = AssertBadInput(Run("train", "--resume", path));

        Assert.Equal($"backprop: {path}: invalid checkpoint: {expected}", message);
    }
}
