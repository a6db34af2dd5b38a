using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>--patience</c>, <c>--schedule</c>, <c>--warmup</c>, <c>--weight-decay</c>, <c>--clip-norm</c> and the loss names, for regression and classification.</summary>
public sealed class TuningOptionsTests
{
    /// <summary>y = x² + noise: a wide ReLU net with a high rate overfits 60 rows, so the validation loss turns.</summary>
    internal static string CurveCsv(int rows = 60, ulong seed = 4)
    {
        var rng = new Rng(seed);
        var text = new StringBuilder("x,y\n");
        for (var i = 0; i < rows; i++)
        {
            var x = (4 * rng.NextDouble()) - 2;
            text.Append(CultureInfo.InvariantCulture, $"{x:R},{(x * x) + (0.5 * ((2 * rng.NextDouble()) - 1)):R}\n");
        }
        return text.ToString();
    }

    /// <summary>Three classes by the angle of a point, a third of the labels drawn at random: a classifier that learns the noise gets worse on held-out rows.</summary>
    internal static string NoisyClassesCsv(int rows = 150, ulong seed = 7)
    {
        var rng = new Rng(seed);
        var text = new StringBuilder("x1,x2,kind\n");
        string[] names = ["a", "b", "c"];
        for (var i = 0; i < rows; i++)
        {
            var (x, y) = ((2 * rng.NextDouble()) - 1, (2 * rng.NextDouble()) - 1);
            var k = (int)((Math.Atan2(y, x) + Math.PI) / (2 * Math.PI / 3)) % 3;
            if (rng.NextDouble() < 0.33)
            {
                k = (int)(rng.NextDouble() * 3) % 3;
            }
            text.Append(CultureInfo.InvariantCulture, $"{x:R},{y:R},{names[k]}\n");
        }
        return text.ToString();
    }

    [Theory]
    [InlineData("--patience", "-1", "--patience must be a whole number of epochs ≥ 0; got -1.")]
    [InlineData("--patience", "two", "--patience takes a whole number; got 'two'. (see 'backprop train --help')")]
    [InlineData("--patience", "3", "--patience stops on the loss of held-out rows: give --validation FRACTION (or --test FILE) as well.")]
    [InlineData("--schedule", "linear", "--schedule takes constant, step:EVERY[:FACTOR], exponential:FACTOR, cosine[:PERIOD[:MIN_LR]]; got 'linear'.")]
    [InlineData("--schedule", "exponential", "--schedule takes constant, step:EVERY[:FACTOR], exponential:FACTOR, cosine[:PERIOD[:MIN_LR]]; got 'exponential'.")]
    [InlineData("--schedule", "step:10:0.5:1", "--schedule takes constant, step:EVERY[:FACTOR], exponential:FACTOR, cosine[:PERIOD[:MIN_LR]]; got 'step:10:0.5:1'.")]
    [InlineData("--schedule", "step:0", "--schedule step:EVERY takes a positive whole number of steps; got '0'.")]
    [InlineData("--schedule", "step:10:1.5", "--schedule step:EVERY:FACTOR takes a factor above 0 and at most 1, e.g. 0.5; got '1.5'.")]
    [InlineData("--schedule", "exponential:0", "--schedule exponential:FACTOR takes a factor above 0 and at most 1, e.g. 0.5; got '0'.")]
    [InlineData("--schedule", "cosine:x", "--schedule cosine:PERIOD takes a positive whole number of steps; got 'x'.")]
    [InlineData("--schedule", "cosine:100:-0.1", "--schedule cosine:PERIOD:MIN_LR takes a smallest rate ≥ 0; got '-0.1'.")]
    [InlineData("--warmup", "0", "--warmup must be a positive number of steps; got 0.")]
    [InlineData("--warmup", "1000", "--warmup 1000 leaves no steps after it: the run has 1000.")]
    [InlineData("--max-steps 0 --schedule", "cosine", "--schedule cosine falls over the whole run, which has no steps; give its length: cosine:PERIOD.")]
    [InlineData("--weight-decay", "-0.01", "--weight-decay must be a number ≥ 0; got -0.01.")]
    [InlineData("--weight-decay", "NaN", "--weight-decay must be a number ≥ 0; got NaN.")]
    [InlineData("--clip-norm", "0", "--clip-norm must be a positive number; got 0.")]
    [InlineData("--clip-norm", "-1", "--clip-norm must be a positive number; got -1.")]
    [InlineData("--clip-norm", "Infinity", "--clip-norm must be a positive number; got Infinity.")]
    [InlineData("--loss", "hinge", "Unknown loss 'hinge'; choose one of ssr, mse, cross-entropy, mae, huber, bce.")]
    public void A_bad_value_is_one_line_and_exit_code_2(string option, string value, string message)
        => Assert.Equal($"backprop: {message}", AssertBadInput(Run(["train", .. option.Split(' '), value])));

    [Fact]
    public void A_run_of_no_steps_takes_no_schedule_and_needs_none()
    {
        Assert.Equal(0, RunJson("--max-steps", "0").Steps);
        Assert.Equal(0, RunJson("--max-steps", "0", "--schedule", "step:10").Steps);
    }

    [Fact]
    public void Schedule_units_are_epochs_with_epochs()
    {
        using var csv = new TempCsv(CurveCsv());

        var line = AssertBadInput(Run("train", "--data", csv.Path, "--epochs", "5", "--schedule", "step:0"));

        Assert.Equal("backprop: --schedule step:EVERY takes a positive whole number of epochs; got '0'.", line);
        Assert.Equal("backprop: --warmup 5 leaves no epochs after it: the run has 5.", AssertBadInput(Run("train", "--data", csv.Path, "--epochs", "5", "--warmup", "5")));
    }

    [Fact]
    public void Patience_stops_a_regression_early_and_puts_back_the_best_weights()
    {
        using var csv = new TempCsv(CurveCsv());
        string[] args = ["train", "--data", csv.Path, "--layers", "1,16,1", "--activation", "relu", "--loss", "mse", "--optimizer", "adam", "--lr", "0.05", "--epochs", "400", "--batch", "8", "--validation", "0.2", "--seed", "3"];

        var run = Run([.. args, "--patience", "5"]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("stopping after 400 epochs, or early when the validation loss has not improved for 5 epochs (the best epoch's weights then put back)", run.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Stopped after \d+ steps: stopped early: the validation loss did not improve for 5 epochs; the best was \S+ at epoch \d+, whose weights were restored", run.Stdout);
        Assert.DoesNotContain("Epoch 400/400", run.Stdout, StringComparison.Ordinal);
        var full = RunJson([.. args]);
        var early = RunJson([.. args, "--patience", "5"]);
        Assert.Equal("stopped", early.StopReason);
        Assert.True(early.Steps < full.Steps);
        // The best epoch's weights were put back: the validation rows score as they did after that epoch.
        using var json = JsonDocument.Parse(early.Text);
        var losses = json.RootElement.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("validationLoss").GetDouble()).ToList();
        var best = losses.Min();
        Assert.Equal(losses.Count - 6, losses.IndexOf(best));
        Assert.True(losses[^1] > best);
        Assert.Equal(best, json.RootElement.GetProperty("metrics").GetProperty("validation").GetProperty("mse").GetDouble(), 12);
    }

    [Fact]
    public void Patience_stops_a_classifier_early_on_its_validation_loss()
    {
        using var csv = new TempCsv(NoisyClassesCsv());
        string[] args = ["train", "--data", csv.Path, "--layers", "2,64,3", "--activation", "relu", "--optimizer", "adam", "--lr", "0.05", "--epochs", "300", "--batch", "8", "--validation", "0.3"];

        var run = Run([.. args, "--patience", "3", "--json"]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal("stopped", root.GetProperty("stopReason").GetString());
        var epochs = root.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("validationLoss").GetDouble()).ToList();
        Assert.True(epochs.Count < 300, $"{epochs.Count} epochs");
        // Stopped 3 epochs after the best, none of which improved on it.
        var best = epochs.IndexOf(epochs.Min());
        Assert.Equal(epochs.Count - 4, best);
    }

    [Fact]
    public void Schedule_and_warmup_are_the_librarys_schedule_bit_for_bit()
    {
        var report = RunJson("--schedule", "exponential:0.995", "--warmup", "20", "--min-step", "0", "--max-steps", "300");

        var network = LessonShaped();
        Lesson.SetValues(network, LessonStart());
        var schedule = LearningRateSchedule.LinearWarmup(20).Then(20, LearningRateSchedule.Exponential(0.995));
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        var options = new TrainingOptions { MaxSteps = 300, MinStepSize = null };
        var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), options, [new LearningRateScheduler<double>(schedule, ScheduleUnit.Step)]);
        AssertSameAsLibrary(report, network, result, network.Predict(Datasets.Dosage.InputTensor<double>()).ToDoubleArray());
        Assert.NotEqual(RunJson("--min-step", "0", "--max-steps", "300").Loss, report.Loss);
    }

    [Fact]
    public void Weight_decay_and_clip_norm_are_the_optimizers_bit_for_bit()
    {
        var report = RunJson("--optimizer", "adam", "--weight-decay", "0.1", "--clip-norm", "0.5");

        var network = LessonShaped();
        Lesson.SetValues(network, LessonStart());
        var adam = new Adam<double>(network.Parameters(), 0.1) { WeightDecay = 0.1, MaxGradientNorm = 0.5 };
        var (result, predictions) = Fit(network, new SumSquaredResiduals(), adam, new TrainingOptions());
        AssertSameAsLibrary(report, network, result, predictions);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    public void L2_weight_decay_of_gradient_descent_and_momentum_is_the_optimizers_bit_for_bit(string optimizer)
    {
        var report = RunJson("--optimizer", optimizer, "--lr", "0.05", "--weight-decay", "0.1", "--min-step", "0", "--max-steps", "200");

        var network = LessonShaped();
        Lesson.SetValues(network, LessonStart());
        var rule = Optimizer<double>.Create(optimizer, network.Parameters(), 0.05);
        rule.WeightDecay = 0.1;
        var (result, predictions) = Fit(network, new SumSquaredResiduals(), rule, new TrainingOptions { MaxSteps = 200, MinStepSize = null });
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.NotEqual(RunJson("--optimizer", optimizer, "--lr", "0.05", "--min-step", "0", "--max-steps", "200").Loss, report.Loss);
    }

    [Theory]
    [InlineData("step:50:0.5")]
    [InlineData("cosine:200:0.01")]
    [InlineData("exponential:0.99")]
    public void Each_schedule_is_the_librarys_schedule_bit_for_bit(string option)
    {
        var report = RunJson("--schedule", option, "--min-step", "0", "--max-steps", "300");

        var network = LessonShaped();
        Lesson.SetValues(network, LessonStart());
        var schedule = option.Split(':') switch
        {
            ["step", var every, var factor] => LearningRateSchedule.Step(int.Parse(every, CultureInfo.InvariantCulture), double.Parse(factor, CultureInfo.InvariantCulture)),
            ["cosine", var period, var min] => LearningRateSchedule.Cosine(int.Parse(period, CultureInfo.InvariantCulture), double.Parse(min, CultureInfo.InvariantCulture)),
            ["exponential", var factor] => LearningRateSchedule.Exponential(double.Parse(factor, CultureInfo.InvariantCulture)),
            _ => throw new ArgumentException(option),
        };
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 300, MinStepSize = null }, [new LearningRateScheduler<double>(schedule, ScheduleUnit.Step)]);
        AssertSameAsLibrary(report, network, result, network.Predict(Datasets.Dosage.InputTensor<double>()).ToDoubleArray());
        Assert.NotEqual(RunJson("--min-step", "0", "--max-steps", "300").Loss, report.Loss);
    }

    [Theory]
    [InlineData("mae")]
    [InlineData("huber")]
    [InlineData("bce")]
    public void Mae_huber_and_bce_train_as_the_library_does_bit_for_bit(string name)
    {
        // The dosage data's efficacies are 0 and 1: targets binary cross-entropy takes too.
        var report = RunJson("--loss", name, "--min-step", "0", "--max-steps", "100");
        var text = Run("--loss", name, "--max-steps", "1").Stdout;

        var network = LessonShaped();
        Lesson.SetValues(network, LessonStart());
        var loss = Loss.Create(name);
        var (result, predictions) = Fit(network, loss, new GradientDescent<double>(network.Parameters(), 0.1), new TrainingOptions { MaxSteps = 100, MinStepSize = null });
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.Contains($"{loss.DisplayName} loss, gradient descent with learning rate 0.1", text, StringComparison.Ordinal);
        Assert.Contains($"Final {loss.DisplayName}:", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_cross_entropy_on_targets_outside_0_to_1_is_one_line_and_exit_code_2()
    {
        using var csv = new TempCsv("x,y\n0,0\n1,1\n2,2.5\n");

        Assert.Equal("backprop: --loss bce needs targets from 0 to 1 (a class, 0 or 1, or a probability), but the data (data.csv) has 2.5 in row 3.", AssertBadInput(Run("train", "--data", csv.Path, "--loss", "bce")));
    }

    [Theory]
    [InlineData("adam", "weight decay 0.01 (decoupled: AdamW)")]
    [InlineData("gd", "weight decay 0.01 (L2)")]
    [InlineData("momentum", "weight decay 0.01 (L2)")]
    public void The_preamble_says_how_weights_decay(string optimizer, string phrase)
    {
        using var csv = new TempCsv(NoisyClassesCsv());

        var run = Run("train", "--data", csv.Path, "--layers", "2,8,3", "--optimizer", optimizer, "--epochs", "2", "--weight-decay", "0.01", "--clip-norm", "2", "--schedule", "cosine");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($", scheduled: cosine over 2 to 0 (t in epochs), {phrase}, gradients clipped to norm 2", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_names_every_loss_and_says_adam_decays_decoupled()
    {
        var help = Run("train", "--help").Stdout.ReplaceLineEndings(" ");
        var flat = string.Join(' ', help.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        foreach (var loss in (string[])["ssr (sum of squared residuals", "mse (mean squared error)", "mae (mean absolute error)", "huber (Huber, δ = 1)", "bce (binary cross-entropy on logits", "cross-entropy (softmax over classes"])
        {
            Assert.Contains(loss, flat, StringComparison.Ordinal);
        }
        Assert.Contains("decoupled for adam (AdamW", flat, StringComparison.Ordinal);
        foreach (var option in (string[])["--patience", "--schedule", "--warmup", "--weight-decay", "--clip-norm"])
        {
            Assert.Contains(option, flat, StringComparison.Ordinal);
        }
    }
}
