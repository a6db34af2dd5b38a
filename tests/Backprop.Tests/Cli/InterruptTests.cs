using System.Text.RegularExpressions;
using Backprop.Serialization;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// Ctrl-C or SIGTERM during <c>backprop train</c>, sent to the real command as a separate process:
/// exit code 130, a checkpoint and one line saying how to resume; <c>--resume</c> then ends with the
/// parameters of a run that was never interrupted, bit for bit.
/// </summary>
public sealed partial class InterruptTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [GeneratedRegex(@"^backprop: interrupted at step (\d+); checkpoint saved to (.+); resume with: backprop train --resume (.+)$")]
    private static partial Regex InterruptedLine();


    /// <summary>
    /// Starts the command, waits for its first periodic checkpoint, sends <paramref name="signal"/>,
    /// checks the exit code and the line, resumes it and trains the same run straight through; returns both models.
    /// The command is held after step <paramref name="holdAt"/> (later than the first checkpoint) until
    /// the signal comes, so that however fast it trains and however late the test looks, the signal
    /// lands before the run ends: at a step from the first checkpoint's to <paramref name="holdAt"/>.
    /// </summary>
    private static async Task<(T[][] Resumed, T[][] Straight, int InterruptedAt)> InterruptAndResume<T>(string signal, TempFolder folder, int totalSteps, int holdAt, params string[] args)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var checkpoint = folder.File("run.ckpt");
        var model = folder.File("resumed.bpm");
        int step;
        using (var child = CliProcess.StartHeld(folder.Path, holdAt, ["train", .. args, "--out", model, "--checkpoint", checkpoint]))
        {
            await child.WaitUntilAsync(() => File.Exists(checkpoint), Timeout);
            child.Signal(signal);
            var run = await child.WaitAsync(Timeout);

            Assert.True(run.ExitCode == 130, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
            // Beside the interrupt line, stderr may hold progress lines (a slow machine reaches the display's
            // first 5 seconds): "step …" or, for epoch runs, "epoch k/N, step …", or "trained N steps; …".
            var line = Assert.Single(ProgressLines.Without(run.Stderr));
            var match = InterruptedLine().Match(line);
            Assert.True(match.Success, line);
            Assert.Equal(checkpoint, match.Groups[2].Value);
            Assert.Equal(checkpoint, match.Groups[3].Value);
            step = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(step, 1, Math.Min(holdAt, totalSteps - 1));
            Assert.Equal(step, Checkpoint.Load(checkpoint).Steps);
            // An interrupted run leaves no model: only a finished run writes its outputs.
            Assert.False(File.Exists(model));
        }

        using (var resume = CliProcess.Start(folder.Path, "train", "--resume", checkpoint))
        {
            var run = await resume.WaitAsync(Timeout);
            Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        }
        // The same run straight through; in this process (it needs no signal), which saves a start of the command.
        var straight = folder.File("straight.bpm");
        var whole = Run(["train", .. args, "--out", straight]);
        Assert.True(whole.ExitCode == 0, $"exit code {whole.ExitCode}; stderr: {whole.Stderr}");
        return (Values<T>(model), Values<T>(straight), step);
    }

    private static T[][] Values<T>(string path) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => [.. Model<T>.Load(path).Network.Parameters().Select(p => p.Data.ToArray())];

    private static void AssertSameBits(double[][] expected, double[][] actual)
        => Assert.Equal(expected.SelectMany(a => a).Select(BitConverter.DoubleToInt64Bits), actual.SelectMany(a => a).Select(BitConverter.DoubleToInt64Bits));

    [SigintFact]
    public async Task Ctrl_C_during_the_lessons_full_batch_run_then_resume_gives_the_uninterrupted_bits()
    {
        using var folder = new TempFolder();

        var (resumed, straight, _) = await InterruptAndResume<double>("INT", folder, 100_000, holdAt: 7_777,
            "--max-steps", "100000", "--min-step", "0", "--lr", "0.01", "--checkpoint-every", "5000", "--quiet");

        AssertSameBits(straight, resumed);
    }

    [Fact]
    public async Task SIGTERM_during_shuffled_mini_batch_classification_then_resume_gives_the_uninterrupted_bits()
    {
        using var folder = new TempFolder();
        var csv = folder.File("classes.csv");
        var rng = new Rng(3);
        File.WriteAllLines(csv, ["x1,x2,kind", .. Enumerable.Range(0, 60).Select(_ =>
        {
            var (a, b) = (rng.NextUniform(-1, 1), rng.NextUniform(-1, 1));
            return FormattableString.Invariant($"{a:R},{b:R},{(a * b > 0 ? "same" : a > 0 ? "right" : "left")}");
        })]);

        // 60 rows in batches of 7: nine steps an epoch, the last of 4 rows, reshuffled every epoch; held mid-epoch.
        var (resumed, straight, _) = await InterruptAndResume<double>("TERM", folder, 9 * 1200, holdAt: 2_345,
            "--data", csv, "--loss", "cross-entropy", "--layers", "2,16,3", "--batch", "7", "--optimizer", "adam", "--lr", "0.01",
            "--epochs", "1200", "--seed", "5", "--checkpoint-every", "2000");

        AssertSameBits(straight, resumed);
    }

    [SigintFact(needsFashionMnist: true)]
    public async Task Ctrl_C_during_a_Fashion_MNIST_slice_then_resume_gives_the_uninterrupted_bits()
    {
        using var folder = new TempFolder();

        // 1000 rows, 900 after the validation split: 18 mini-batches of 50 per epoch, in float, with momentum.
        var (resumed, straight, _) = await InterruptAndResume<float>("INT", folder, 18 * 100, holdAt: 150,
            "--dataset", "fashion-mnist", "--limit", "1000", "--layers", "784,16,10", "--batch", "50", "--optimizer", "momentum",
            "--lr", "0.01", "--epochs", "100", "--standardize", "--checkpoint-every", "100");

        Assert.Equal(straight.SelectMany(a => a).Select(BitConverter.SingleToInt32Bits), resumed.SelectMany(a => a).Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Resume_refuses_options_that_would_change_the_run()
    {
        var message = AssertBadInput(Run("train", "--resume", "whatever.ckpt", "--lr", "0.5"));

        Assert.Equal("backprop: --lr cannot be given with --resume: the run continues with the options it was started with (only --out, --checkpoint, --checkpoint-every, --json, --quiet, --distributed, --log, --log-every may be given).", message);
    }

    [Fact]
    public void A_missing_corrupt_or_wrong_checkpoint_is_one_line_and_exit_code_2()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("bad.ckpt"), [.. "BPCHKPT\0"u8, 1, 0, 0, 0, 200, 0, 0, 0, .. new byte[40]]);
        new Model<double>(Backprop.Nn.Lesson.CreateNetwork<double>()).Save(folder.File("lesson.bpm"));

        Assert.StartsWith($"backprop: {folder.File("missing.ckpt")}: cannot read the checkpoint:", AssertBadInput(Run("--resume", folder.File("missing.ckpt"))), StringComparison.Ordinal);
        Assert.Equal($"backprop: {folder.File("bad.ckpt")}: the header length 200 does not fit in the checkpoint (56 bytes): the file is truncated or corrupt.", AssertBadInput(Run("train", "--resume", folder.File("bad.ckpt"))));
        Assert.StartsWith($"backprop: {folder.File("lesson.bpm")}: this is a model file, not a checkpoint", AssertBadInput(Run("train", "--resume", folder.File("lesson.bpm"))), StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_of_other_data_is_refused()
    {
        using var folder = new TempFolder();
        var csv = folder.File("data.csv");
        File.WriteAllLines(csv, ["x,y", "0,0", "0.5,1", "1,0"]);
        Assert.Equal(0, Run("train", "--data", csv, "--max-steps", "5", "--checkpoint", folder.File("c.ckpt"), "--checkpoint-every", "5", "--quiet").ExitCode);
        File.WriteAllLines(csv, ["x,y", "0,0", "0.5,1", "1,0.5"]);

        var message = AssertBadInput(Run("train", "--resume", folder.File("c.ckpt")));

        Assert.Equal($"backprop: {folder.File("c.ckpt")}: the training data is not the data this checkpoint was trained on (its fingerprint differs): the data file changed since, or the checkpoint's stored options were edited.", message);
    }

    [Fact]
    public void A_periodic_checkpoint_resumed_in_process_finishes_the_run_with_the_same_bits()
    {
        using var folder = new TempFolder();
        // The checkpoint of step 900 (of 1000) stays behind when the run finishes; resuming it redoes steps 901 to 1000.
        var straight = RunJson("--max-steps", "1000", "--min-step", "0", "--optimizer", "momentum", "--lr", "0.01", "--checkpoint", folder.File("c.ckpt"), "--checkpoint-every", "300");
        Assert.Equal(900, Checkpoint.Load(folder.File("c.ckpt")).Steps);

        var resumed = RunJson("--resume", folder.File("c.ckpt"), "--out", folder.File("m.bpm"));

        Assert.Equal(straight.Text, resumed.Text);
        Assert.True(File.Exists(folder.File("m.bpm")));
    }

    [Fact]
    public void A_run_that_fails_while_writing_its_outputs_leaves_none_of_them()
    {
        using var folder = new TempFolder();
        var plots = folder.File("plots");
        Directory.CreateDirectory(plots);
        File.WriteAllText(Path.Combine(plots, "fit.png"), "an earlier run's picture");
        Directory.CreateDirectory(folder.File("model.bpm")); // --out names a folder: the model cannot be written

        var result = Run("train", "--plot", plots, "--out", folder.File("model.bpm"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot write the model", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(["fit.png"], Directory.GetFiles(plots).Select(Path.GetFileName));
        Assert.Equal("an earlier run's picture", File.ReadAllText(Path.Combine(plots, "fit.png")));
    }

    [Fact]
    public void A_failed_run_removes_the_plot_folder_it_created()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("model.bpm"));

        var result = Run("train", "--plot", folder.File("new-plots"), "--out", folder.File("model.bpm"));

        Assert.Equal(2, result.ExitCode);
        Assert.False(Directory.Exists(folder.File("new-plots")));
    }
}

/// <summary>
/// A test that sends SIGINT to a child process: skipped when this process ignores SIGINT (it was
/// started in the background by a non-interactive shell), because its children then ignore it too.
/// </summary>
internal sealed class SigintFactAttribute : FactAttribute
{
    public SigintFactAttribute(bool needsFashionMnist = false)
    {
        NeedsFashionMnist = needsFashionMnist;
        if (File.Exists("/proc/self/status")
            && File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) is { } line
            && (Convert.ToUInt64(line[7..].Trim(), 16) & 2) != 0)
        {
            Skip = "SIGINT is ignored by this test process (started in the background by a shell), so it would be by the command too";
        }
        else if (needsFashionMnist && !File.Exists(Path.Combine(Backprop.Data.FashionMnist.DefaultDirectory, "train-labels-idx1-ubyte.gz")))
        {
            Skip = $"Fashion-MNIST is not installed (apt-get install {Backprop.Data.FashionMnist.DebianPackage})";
        }
    }

    /// <summary>Whether the test also needs Debian's Fashion-MNIST.</summary>
    public bool NeedsFashionMnist { get; }
}
