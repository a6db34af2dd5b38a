using System.Globalization;
using Backprop.Cli;
using Backprop.Serialization;
using static Backprop.Tests.Cli.CliHarness;
using static Backprop.Tests.Cli.TuningOptionsTests;

namespace Backprop.Tests.Cli;

/// <summary>
/// A run with <c>--patience</c> and <c>--log</c> interrupted (deterministically, after a given step, as a
/// first Ctrl-C does) and resumed: the same stop, epoch and weights as the uninterrupted run, and one log.
/// </summary>
public sealed class ResumeLogTests
{
    // 60 rows, 48 trained in batches of 8: 6 steps an epoch. The validation loss turns, so --patience 5 stops the run early.
    private static string[] Args(string csv) => ["train", "--data", csv, "--layers", "1,16,1", "--activation", "relu", "--loss", "mse", "--optimizer", "adam", "--lr", "0.05",
        "--epochs", "400", "--batch", "8", "--validation", "0.2", "--seed", "3", "--patience", "5"];

    private static CliResult RunInterrupted(int step, params string[] args)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        var code = BackpropCli.Run(args, stdout, stderr, ProgressSettings.None, interruptAtStep: step);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    private static string StopLine(string stdout) => Assert.Single(stdout.Split('\n'), l => l.StartsWith("Stopped after ", StringComparison.Ordinal));

    private static string[][] Rows(string path) => [.. File.ReadAllLines(path).Select(l => l.Split(','))];

    // Every column but the times (seconds, elapsed_seconds: the last two), and train_loss of the epoch that was cut in two.
    private static void AssertSameLog(string expected, string actual, int? splitEpoch)
    {
        var (e, a) = (Rows(expected), Rows(actual));
        Assert.Equal(e[0], a[0]);
        Assert.Equal(e.Length, a.Length);
        for (var i = 1; i < e.Length; i++)
        {
            var n = e[i].Length - 2;
            Assert.Equal(e[i][..2], a[i][..2]);
            if (e[i][0] != splitEpoch?.ToString(CultureInfo.InvariantCulture))
            {
                Assert.Equal(e[i][2], a[i][2]);
            }
            Assert.Equal(e[i][3..n], a[i][3..n]);
        }
    }

    [Theory]
    [InlineData(18, null)] // at the end of epoch 3
    [InlineData(20, 4)]    // two steps into epoch 4: the resumed run's epoch 4 trains only its last four batches
    public void A_patience_run_interrupted_and_resumed_stops_as_the_uninterrupted_run_and_continues_its_log(int step, int? splitEpoch)
    {
        using var csv = new TempCsv(CurveCsv());
        var folder = Path.GetDirectoryName(csv.Path)!;
        var (log, straightLog, checkpoint) = (Path.Combine(folder, "run.csv"), Path.Combine(folder, "straight.csv"), Path.Combine(folder, "c.ckpt"));
        var straight = RunJson([.. Args(csv.Path), "--log", straightLog]);
        Assert.Equal("stopped", straight.StopReason);

        var interrupted = RunInterrupted(step, [.. Args(csv.Path), "--log", log, "--checkpoint", checkpoint]);

        Assert.Equal(130, interrupted.ExitCode);
        Assert.Contains($"interrupted at step {step}; checkpoint saved to {checkpoint}", interrupted.Stderr, StringComparison.Ordinal);
        // The log of the interrupted run is there, with a row for each epoch it finished.
        Assert.Equal(["epoch", "1", "2", "3"], Rows(log).Select(r => r[0]));
        Assert.Equal(["earlyStopping"], Checkpoint.Load(checkpoint).MonitorNames);

        var resumedText = Run("train", "--resume", checkpoint);

        // The same stop at the same epoch, the same best epoch restored.
        Assert.True(resumedText.ExitCode == 0, resumedText.Stderr);
        Assert.Equal(StopLine(Run([.. Args(csv.Path)]).Stdout), StopLine(resumedText.Stdout));
        // The resumed run appended to the log (Keras's append=True): one log, as the uninterrupted run's.
        AssertSameLog(straightLog, log, splitEpoch);
        // Resumed again from the same checkpoint: the same bits.
        var resumed = RunJson("train", "--resume", checkpoint);
        Assert.Equal((straight.Steps, straight.StopReason, straight.Loss), (resumed.Steps, resumed.StopReason, resumed.Loss));
        Assert.Equal(straight.Parameters.Select(p => BitConverter.DoubleToInt64Bits(p.Value)), resumed.Parameters.Select(p => BitConverter.DoubleToInt64Bits(p.Value)));
        AssertSameLog(straightLog, log, splitEpoch);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void A_resumed_periodic_checkpoint_drops_the_logged_rows_past_it_and_logs_them_again()
    {
        using var csv = new TempCsv(CurveCsv());
        var folder = Path.GetDirectoryName(csv.Path)!;
        var (log, checkpoint) = (Path.Combine(folder, "run.csv"), Path.Combine(folder, "c.ckpt"));
        // The run finishes (after 66 steps); its checkpoint of step 48 (end of epoch 8) stays, as after a run killed later.
        var straight = RunJson([.. Args(csv.Path), "--log", log, "--checkpoint", checkpoint, "--checkpoint-every", "24"]);
        Assert.Equal(66, straight.Steps);
        var whole = File.ReadAllText(log);
        var steps = Checkpoint.Load(checkpoint).Steps;
        File.Copy(log, Path.Combine(folder, "straight.csv"));

        var resumed = RunJson("train", "--resume", checkpoint, "--checkpoint", Path.Combine(folder, "d.ckpt"));

        Assert.Equal(straight.Parameters, resumed.Parameters);
        AssertSameLog(Path.Combine(folder, "straight.csv"), log, null);
        Assert.NotEqual(whole, File.ReadAllText(log)); // the rows after the checkpoint were written again (new times)
        Assert.Equal(48, steps);
    }

    [Fact]
    public void An_existing_log_is_replaced_whole_by_an_interrupted_runs_rows()
    {
        using var csv = new TempCsv(CurveCsv());
        var folder = Path.GetDirectoryName(csv.Path)!;
        var log = Path.Combine(folder, "run.csv");
        File.WriteAllText(log, "an earlier run's log\n");

        var run = RunInterrupted(13, [.. Args(csv.Path), "--log", log, "--checkpoint", Path.Combine(folder, "c.ckpt")]);

        Assert.Equal(130, run.ExitCode);
        Assert.Equal(["epoch", "1", "2"], Rows(log).Select(r => r[0]));
        Assert.Empty(Directory.GetFiles(folder, ".*"));
    }

    [Fact]
    public void A_checkpoint_without_early_stoppings_state_is_refused_for_a_patience_run()
    {
        using var csv = new TempCsv(CurveCsv());
        var checkpoint = Path.Combine(Path.GetDirectoryName(csv.Path)!, "c.ckpt");
        Assert.Equal(130, RunInterrupted(20, [.. Args(csv.Path), "--checkpoint", checkpoint]).ExitCode);
        var saved = (Checkpoint<double>)Checkpoint.Load(checkpoint);
        new Checkpoint<double>(saved.State with { Monitors = [] }, saved.Command, saved.DataFingerprint).Save(checkpoint);

        var message = AssertBadInput(Run("train", "--resume", checkpoint));

        Assert.Equal($"backprop: {checkpoint}: this checkpoint holds no early-stopping state (checkpoints of format version 1 did not keep it), so its --patience run cannot continue exactly; start the run again.", message);
    }
}
