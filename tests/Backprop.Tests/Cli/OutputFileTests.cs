using System.Text.RegularExpressions;
using Backprop.Serialization;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// A run's files are checked against each other before training: no two outputs on one file, no
/// output on an input; devices are written into; a default checkpoint never replaces another run's.
/// </summary>
public sealed partial class OutputFileTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("--out DIR/same.bpm --checkpoint DIR/same.bpm", "--checkpoint DIR/same.bpm is the same file as --out DIR/same.bpm: each output needs a file of its own.")]
    [InlineData("--out DIR/keep.bpm --report DIR/keep.bpm", "--report DIR/keep.bpm is the same file as --out DIR/keep.bpm: each output needs a file of its own.")]
    [InlineData("--out DIR/keep.bpm --report DIR/sub/../keep.bpm", "--report DIR/sub/../keep.bpm is the same file as --out DIR/keep.bpm: each output needs a file of its own.")]
    [InlineData("--out DIR/m.bpm --report DIR/m.bpm.ckpt", "--report DIR/m.bpm.ckpt is the same file as --checkpoint DIR/m.bpm.ckpt: each output needs a file of its own.")]
    [InlineData("--plot DIR/plots --report DIR/plots/fit.svg", "--plot DIR/plots/fit.svg is the same file as --report DIR/plots/fit.svg: each output needs a file of its own.")]
    [InlineData("--data DIR/data.csv --out DIR/data.csv", "--out DIR/data.csv is the same file as --data DIR/data.csv: an output must not replace an input.")]
    [InlineData("--dataset DIR/data.csv --report DIR/data.csv", "--report DIR/data.csv is the same file as --dataset DIR/data.csv: an output must not replace an input.")]
    public void Two_files_of_one_run_on_the_same_path_are_refused_before_training(string options, string expected)
    {
        Directory.CreateDirectory(folder.File("sub"));
        File.WriteAllText(folder.File("keep.bpm"), "kept");
        File.WriteAllText(folder.File("data.csv"), "x,y\n0,0\n0.5,1\n1,0\n");

        var message = AssertBadInput(Run(["train", "--max-steps", "3", .. options.Replace("DIR", folder.Path, StringComparison.Ordinal).Split(' ')]));

        Assert.Equal("backprop: " + expected.Replace("DIR", folder.Path, StringComparison.Ordinal), message);
        Assert.Equal("kept", File.ReadAllText(folder.File("keep.bpm")));
        Assert.Equal("x,y\n0,0\n0.5,1\n1,0\n", File.ReadAllText(folder.File("data.csv")));
        Assert.False(Directory.Exists(folder.File("plots")));
    }

    [Fact]
    public void Outputs_to_dev_null_are_written_into_it_and_it_stays_a_device()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var run = Run("train", "--max-steps", "3", "--out", "/dev/null", "--report", "/dev/null");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(EntryKind.Special, FileSystemEntry.Kind("/dev/null"));
    }

    [Fact]
    public void A_model_to_dev_full_is_one_line_and_exit_code_2()
    {
        if (!File.Exists("/dev/full"))
        {
            return;
        }
        var message = AssertBadInput(Run("train", "--quiet", "--max-steps", "3", "--out", "/dev/full"));

        Assert.StartsWith("backprop: /dev/full: cannot write the model: ", message, StringComparison.Ordinal);
        Assert.Equal(EntryKind.Special, FileSystemEntry.Kind("/dev/full"));
    }

    [Fact]
    public void Graph_refuses_its_dot_and_svg_on_one_file_and_export_its_onnx_on_the_model()
    {
        var model = folder.File("m.bpm");
        ModelFile.Save(ModelTestData.TrainedLesson(), model);
        var bytes = File.ReadAllBytes(model);

        var graph = AssertBadInput(Run("graph", "--output", folder.File("g"), "--svg", folder.File("g")));
        var export = AssertBadInput(Run("export", "--model", model, "--onnx", model));

        Assert.Equal($"backprop: --svg {folder.File("g")} is the same file as --output {folder.File("g")}: each output needs a file of its own.", graph);
        Assert.Equal($"backprop: --onnx {model} is the same file as --model {model}: an output must not replace an input.", export);
        Assert.Equal(bytes, File.ReadAllBytes(model));
    }

    [GeneratedRegex(@"^backprop: interrupted at step (\d+); checkpoint saved to (.+); resume with: backprop train --resume (.+)$")]
    private static partial Regex InterruptedLine();

    [SigintFact]
    public async Task Two_runs_interrupted_at_once_keep_both_checkpoints()
    {
        var timeout = TimeSpan.FromMinutes(4);
        File.WriteAllText(folder.File("backprop.ckpt"), "an earlier run's checkpoint");
        string[] args = ["train", "--max-steps", "100000000", "--min-step", "0", "--checkpoint-every", "5000", "--quiet"];
        using var first = CliProcess.Start(folder.Path, args);
        using var second = CliProcess.Start(folder.Path, args);
        await first.WaitUntilAsync(() => File.Exists(folder.File("backprop.2.ckpt")) && File.Exists(folder.File("backprop.3.ckpt")), timeout);
        await second.WaitUntilAsync(() => true, timeout);

        first.Signal("INT");
        second.Signal("INT");
        var runs = new[] { await first.WaitAsync(timeout), await second.WaitAsync(timeout) };

        var saved = runs.Select(r =>
        {
            Assert.True(r.ExitCode == 130, $"exit code {r.ExitCode}: {r.Stderr}");
            var match = InterruptedLine().Match(r.Stderr.Trim());
            Assert.True(match.Success, r.Stderr);
            return (Step: int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), File: match.Groups[2].Value);
        }).ToList();
        Assert.Equal(["backprop.2.ckpt", "backprop.3.ckpt"], saved.Select(s => s.File).Order(StringComparer.Ordinal));
        foreach (var (step, file) in saved)
        {
            Assert.Equal(step, Checkpoint.Load(folder.File(file)).Steps);
        }
        Assert.Equal("an earlier run's checkpoint", File.ReadAllText(folder.File("backprop.ckpt")));
    }
}
