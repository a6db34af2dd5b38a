using System.Globalization;
using Backprop.Cli;
using Backprop.Tests.Plotting;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>--plot</c>, <c>--report</c>, <c>--quiet</c> and the progress shown while training.</summary>
public sealed class PlotAndProgressTests
{
    // A progress line's durations: "7 s", "2 min 5 s", "1 h 3 min" (a loaded machine may take minutes).
    private const string Duration = @"(\d+ h \d+ min|\d+ min \d+ s|\d+ s)";

    private static CliResult RunWith(ProgressSettings progress, params string[] args)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        var code = BackpropCli.Run(args, stdout, stderr, progress);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Runs the command with training held at its second step until <paramref name="shown"/> is
    /// written to stdout (a bar) or anything to stderr (progress lines): on a fast machine a run of
    /// thousands of tiny steps ends before the display's first look, and shows nothing, as it should.
    /// </summary>
    private static CliResult RunHeld(ProgressSettings progress, string shown, params string[] args) => RunHeld(progress, shown, 2, args);

    /// <summary>As above, held at step <paramref name="holdAt"/> (the display has then seen step <paramref name="holdAt"/> − 1).</summary>
    private static CliResult RunHeld(ProgressSettings progress, string shown, int holdAt, params string[] args)
    {
        var bar = progress.Style == ProgressStyle.Bar;
        using var stdout = new WatchedWriter(bar ? shown : null);
        using var stderr = new WatchedWriter(bar ? null : shown);
        var watched = bar ? stdout : stderr;
        var held = progress with
        {
            AfterStep = info =>
            {
                if (info.Step == holdAt)
                {
                    // Generous: on a loaded machine the display thread may wait long for a core. If
                    // nothing shows, training goes on and the test's assertions say what is missing.
                    watched.Seen.Wait(TimeSpan.FromMinutes(2));
                }
            },
        };
        var code = BackpropCli.Run(args, stdout, stderr, held);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A string writer, safe across threads, that signals once its text contains a marker.</summary>
    private sealed class WatchedWriter(string? marker) : StringWriter(CultureInfo.InvariantCulture)
    {
        private readonly Lock gate = new();

        public ManualResetEventSlim Seen { get; } = new();

        public override void Write(char value)
        {
            lock (gate)
            {
                base.Write(value);
                Check();
            }
        }

        public override void Write(string? value)
        {
            lock (gate)
            {
                base.Write(value);
                Check();
            }
        }

        public override void Write(char[] buffer, int index, int count)
        {
            lock (gate)
            {
                base.Write(buffer, index, count);
                Check();
            }
        }

        public override string ToString()
        {
            lock (gate)
            {
                return base.ToString();
            }
        }

        private void Check()
        {
            if (marker is not null && !Seen.IsSet && GetStringBuilder().ToString().Contains(marker, StringComparison.Ordinal))
            {
                Seen.Set();
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Seen.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    [Fact]
    public void Plot_and_report_write_their_files_and_say_where()
    {
        using var folder = new TempFolder();
        var run = Run("train", "--plot", folder["plots"], "--report", folder["run.html"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.EndsWith($"Pictures: fit, loss, gradients (PNG and SVG) in {folder["plots"]}\nReport: {folder["run.html"]}\n", run.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(["fit.png", "fit.svg", "gradients.png", "gradients.svg", "loss.png", "loss.svg"], Directory.GetFiles(folder["plots"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("<dt>optimizer</dt><dd>gradient descent</dd>", File.ReadAllText(folder["run.html"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Recording_for_pictures_leaves_the_result_bit_for_bit_the_same()
    {
        using var folder = new TempFolder();
        Assert.Equal(RunJson().Text, RunJson("--plot", folder["plots"], "--report", folder["run.html"]).Text);
        Assert.True(File.Exists(folder["run.html"]));
    }

    [Fact]
    public async Task The_executable_draws_several_inputs_with_nothing_on_stderr()
    {
        // Skia's native code writes its complaints straight to the process's stderr: only a real process shows them.
        using var csv = new TempCsv("left,right,height\n0,0,0\n0,1,1\n1,0,1\n1,1,2\n0.2,0.1,0.3\n");
        using var folder = new TempFolder();
        var run = await ExecutableTests.RunProcessAsync("train", "--data", csv.Path, "--plot", folder["plots"], "--report", folder["run.html"], "--quiet");

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        Assert.Equal("", run.Stderr);
        Assert.Equal(6, Directory.GetFiles(folder["plots"]).Length);
        Assert.True(File.Exists(folder["run.html"]));
    }

    [Fact]
    public void Plot_into_a_file_is_refused_before_training_and_the_file_is_kept()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["plots"], "mine");
        var line = AssertBadInput(Run("train", "--plot", folder["plots"], "--report", folder["run.html"]));

        Assert.Equal($"backprop: --plot needs a folder, but '{folder["plots"]}' is a file.", line);
        Assert.Equal("mine", File.ReadAllText(folder["plots"]));
        Assert.Equal([folder["plots"]], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void Plot_into_an_unwritable_folder_is_refused()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // /proc refuses new files even to root.
        var line = AssertBadInput(Run("train", "--plot", "/proc/backprop-plots"));
        Assert.StartsWith("backprop: --plot cannot write into the folder '/proc/backprop-plots': ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_into_a_folder_or_a_missing_folder_is_refused()
    {
        using var folder = new TempFolder();
        Assert.Equal($"backprop: --report needs a file name, but '{folder.Path}' is a folder.", AssertBadInput(Run("--report", folder.Path)));
        var missing = Path.Combine(folder.Path, "nowhere", "run.html");
        Assert.Equal($"backprop: --report cannot write '{missing}': the folder '{Path.GetDirectoryName(missing)}' does not exist.", AssertBadInput(Run("--report", missing)));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void Empty_names_are_refused()
    {
        Assert.Equal("backprop: --plot needs a folder name.", AssertBadInput(Run("--plot", "")));
        Assert.Equal("backprop: --report needs a file name.", AssertBadInput(Run("--report", "")));
    }

    [Fact]
    public void Quiet_prints_only_the_result()
    {
        using var folder = new TempFolder();
        var loud = Run();
        var quiet = Run("train", "--quiet", "--report", folder["run.html"]);

        Assert.Equal(0, quiet.ExitCode);
        Assert.Equal("", quiet.Stderr);
        Assert.Contains("Training the lesson's network", loud.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Training", quiet.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Report:", quiet.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("Starting SSR: ", quiet.Stdout, StringComparison.Ordinal);
        // Everything from the result on is the same as without --quiet.
        Assert.EndsWith(quiet.Stdout, loud.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(folder["run.html"]));
    }

    [Fact]
    public void Without_a_terminal_long_training_prints_plain_progress_lines_on_stderr()
    {
        var progress = new ProgressSettings(ProgressStyle.Lines, TimeSpan.Zero, TimeSpan.FromMilliseconds(20));
        var run = RunHeld(progress, "", "train", "--max-steps", "30000", "--min-step", "0");
        var quiet = RunWith(progress, "train", "--max-steps", "30000", "--min-step", "0", "--quiet");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches($@"^(step \d+/30000 \(\d+%\): loss ([-+.0-9Ee]+|NaN)(, [.0-9]+ steps/s)?, {Duration} elapsed(, {Duration} left)?|trained 30000 steps; scoring the rows, {Duration} elapsed)$", l));
        Assert.DoesNotContain("\u001b", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("step", quiet.Stderr, StringComparison.Ordinal);
        Assert.Equal("", quiet.Stderr);
        // Progress goes to stderr: stdout holds the same result.
        Assert.EndsWith(quiet.Stdout, run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void In_a_terminal_long_training_shows_a_live_bar_that_is_cleared_before_the_result()
    {
        var run = RunHeld(new ProgressSettings(ProgressStyle.Bar, TimeSpan.Zero, TimeSpan.FromMilliseconds(20)), "steps/s", "train", "--max-steps", "30000", "--min-step", "0");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Matches(@"step \d+/30000 \(\d+%\)  loss \S+  [.0-9]+ steps/s", run.Stdout);
        Assert.Contains("\u001b[", run.Stdout, StringComparison.Ordinal);
        // The preamble comes before the bar; the result after it, with the bar cleared.
        Assert.StartsWith("Training the lesson's network", run.Stdout, StringComparison.Ordinal);
        var result = run.Stdout[run.Stdout.IndexOf("Starting SSR", StringComparison.Ordinal)..];
        Assert.DoesNotContain("steps/s", result, StringComparison.Ordinal);
        Assert.Contains("Stopped after 30000 steps", result, StringComparison.Ordinal);
    }

    [Fact]
    public void The_lessons_default_run_in_a_terminal_shows_no_bar()
    {
        var run = RunWith(ProgressSettings.For(stdoutIsTerminal: true));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Run().Stdout, run.Stdout);
        Assert.DoesNotContain("steps/s", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_terminal_an_epoch_run_shows_epochs_and_the_true_percentage_beside_its_epoch_lines()
    {
        using var csv = new TempCsv(TuningOptionsTests.NoisyClassesCsv(600));
        var progress = new ProgressSettings(ProgressStyle.Lines, TimeSpan.Zero, TimeSpan.FromMilliseconds(5));

        // 594 training rows in batches of 8: 75 steps an epoch, 60 epochs, 4500 steps planned.
        var run = RunHeld(progress, "", "train", "--data", csv.Path, "--layers", "2,32,3", "--epochs", "60", "--batch", "8", "--patience", "1000", "--validation", "0.01");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches($@"^(epoch (\d+)/60, step (\d+)/4500 \((\d+)%\): loss \S+(, [.0-9]+ steps/s)?, {Duration} elapsed(, at most {Duration} left)?|trained 4500 steps; scoring the rows, {Duration} elapsed)$", l));
        foreach (var line in lines.Where(l => l.StartsWith("epoch", StringComparison.Ordinal)))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^epoch (\d+)/60, step (\d+)/4500 \((\d+)%\)");
            var (epoch, step, percent) = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
            Assert.Equal(100 * step / 4500, percent);
            Assert.InRange(epoch, ((step - 1) / 75) + 1, (step / 75) + 1);
        }
        // The epoch lines on stdout are whole, in order, without control codes.
        var epochs = run.Stdout.Split('\n').Where(l => l.StartsWith("Epoch ", StringComparison.Ordinal)).ToList();
        Assert.Equal([.. Enumerable.Range(1, 60).Select(e => $"Epoch {e}/60:")], epochs.Select(l => l[..(l.IndexOf(':', StringComparison.Ordinal) + 1)]));
        Assert.DoesNotContain("\u001b", run.Stderr + run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_terminal_an_epoch_run_says_how_long_is_left_once_it_has_a_rate()
    {
        using var csv = new TempCsv(TuningOptionsTests.NoisyClassesCsv(600));
        var progress = new ProgressSettings(ProgressStyle.Lines, TimeSpan.Zero, TimeSpan.FromMilliseconds(5));

        // 600 rows in batches of 8: 75 steps an epoch, 225 planned. Held before the display sees step 3,
        // until a line says the time left: from step 2 on there is a rate (since step 1) to reckon it by.
        // Nothing but the epoch count may end the run.
        var run = RunHeld(progress, " left", 3, "train", "--data", csv.Path, "--layers", "2,8,3", "--epochs", "3", "--batch", "8");
        var patient = RunHeld(progress, " left", 3, "train", "--data", csv.Path, "--layers", "2,8,3", "--epochs", "3", "--batch", "8", "--validation", "0.1", "--patience", "2");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var line = run.Stderr.Split('\n').First(l => l.Contains(" left", StringComparison.Ordinal));
        Assert.Matches($@"^epoch 1/3, step 2/225 \(0%\): loss \S+, [.0-9]+ steps/s, {Duration} elapsed, {Duration} left$", line);
        // Early stopping may end it sooner: then the time left is a bound. 540 training rows: 68 steps an epoch.
        Assert.True(patient.ExitCode == 0, patient.Stderr);
        line = patient.Stderr.Split('\n').First(l => l.Contains(" left", StringComparison.Ordinal));
        Assert.Matches($@"^epoch 1/3, step 2/204 \(0%\): loss \S+, [.0-9]+ steps/s, {Duration} elapsed, at most {Duration} left$", line);
    }

    [Fact]
    public void In_a_terminal_epoch_lines_are_written_above_the_bar()
    {
        using var csv = new TempCsv(TuningOptionsTests.NoisyClassesCsv(600));

        var run = RunHeld(new ProgressSettings(ProgressStyle.Bar, TimeSpan.Zero, TimeSpan.FromMilliseconds(5)), "steps/s", "train", "--data", csv.Path, "--layers", "2,32,3", "--epochs", "40", "--batch", "8");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr);
        Assert.Contains("\u001b[", run.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"epoch \d+/40, step \d+/3000 \(\d+%\)", run.Stdout);
        // Every epoch line is there once, whole, and in order, though the bar was redrawn between them.
        var text = run.Stdout;
        var at = 0;
        for (var e = 1; e <= 40; e++)
        {
            var found = System.Text.RegularExpressions.Regex.Match(text[at..], $@"Epoch {e}/40: train loss \d\.\d{{4}}, accuracy \d+\.\d\d% \| \d+\.\d\d s");
            Assert.True(found.Success, $"epoch {e}");
            at += found.Index + found.Length;
        }
        var result = text[text.LastIndexOf("Stopped after", StringComparison.Ordinal)..];
        Assert.DoesNotContain("steps/s", result, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", result, StringComparison.Ordinal);
    }
}
