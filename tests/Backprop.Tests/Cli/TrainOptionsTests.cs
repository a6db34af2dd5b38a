using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Training;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>Each option of <c>backprop train</c> changes what a user sees, in the documented way.</summary>
public sealed class TrainOptionsTests
{
    private const string DosageCsv = "0,0\n0.5,1\n1,0\n";

    private static readonly JsonReport Default = RunJson();

    private static Sequential<double> LessonNetwork(Activation? hidden = null)
    {
        var network = LessonShaped(hidden);
        Lesson.SetValues(network, LessonStart());
        return network;
    }

    // ---- learning rate and stopping rules ----

    [Fact]
    public void Smaller_learning_rate_needs_more_steps_to_reach_the_same_loss()
    {
        string[] common = ["--min-step", "0", "--max-steps", "20000", "--target-loss", "0.01"];
        var fast = RunJson([.. common, "--lr", "0.1"]);
        var slow = RunJson([.. common, "--lr", "0.01"]);

        Assert.Equal("targetLoss", fast.StopReason);
        Assert.Equal("targetLoss", slow.StopReason);
        Assert.True(slow.Steps > 5 * fast.Steps, $"lr 0.01: {slow.Steps} steps; lr 0.1: {fast.Steps} steps");
    }

    [Fact]
    public void Learning_rate_option_is_the_library_run_at_that_rate()
    {
        var network = LessonNetwork();
        var (result, predictions) = FitLike(network, lr: 0.01);

        var report = RunJson("--lr", "0.01");
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.NotEqual(Default.Loss, report.Loss);
        // --learning-rate is the long name of the same option.
        Assert.Equal(report.Text, RunJson("--learning-rate", "0.01").Text);
    }

    [Fact]
    public void Epochs_trains_that_many_epochs_past_the_lessons_step_rules_as_the_library_does()
    {
        // The lesson stops on the step-size rule after 472 steps, and at 1000 steps at most; --epochs means epochs.
        var report = RunJson("--epochs", "1500");

        var network = LessonNetwork();
        var (result, predictions) = FitLike(network, options: new TrainingOptions { Epochs = 1500 });
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.Equal(1500, report.Steps);
        Assert.Equal("epochs", report.StopReason);
        Assert.Contains("Stopped after 2 steps: finished 2 epochs", Run("--epochs", "2").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Max_steps_stops_after_that_many_steps()
    {
        var report = RunJson("--max-steps", "5");

        Assert.Equal(5, report.Steps);
        Assert.Equal("maxSteps", report.StopReason);
        Assert.True(report.Loss < report.InitialLoss);
    }

    [Fact]
    public void Max_steps_zero_reports_the_untrained_network()
    {
        var report = RunJson("--max-steps", "0");

        Assert.Equal(0, report.Steps);
        Assert.Equal("maxSteps", report.StopReason);
        AssertBits(report.InitialLoss, report.Loss);
        var start = LessonStart();
        Assert.All(report.Parameters, p => AssertBits(start[p.Key], p.Value));
    }

    [Fact]
    public void Min_step_zero_never_stops_for_small_steps()
    {
        var report = RunJson("--min-step", "0");

        Assert.Equal(1000, report.Steps);
        Assert.Equal("maxSteps", report.StopReason);
    }

    [Fact]
    public void Target_loss_stops_once_the_loss_reaches_it()
    {
        var report = RunJson("--target-loss", "0.5");

        Assert.Equal("targetLoss", report.StopReason);
        Assert.True(report.Loss <= 0.5, $"loss {report.Loss}");
        Assert.True(report.Steps < Default.Steps, $"{report.Steps} steps, default run {Default.Steps}");
    }

    [Fact]
    public void Diverging_run_says_so_and_reports_the_loss_as_null()
    {
        var run = Run("--lr", "10", "--json");

        // Exit code 3 and a warning on stderr, so that a script notices; stdout still holds the one JSON object.
        Assert.Equal(3, run.ExitCode);
        Assert.Matches(@"^backprop: warning: training diverged: the loss became (NaN|infinite) in step \d+: .*\r?\n$", run.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(run.Stdout);
        Assert.Equal("diverged", json.RootElement.GetProperty("stopReason").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("loss").ValueKind);
        // The message names the step and the operation where the first non-finite number appeared.
        Assert.Matches(@"the loss became (NaN|infinite) in step \d+: it first appeared in \w+ \(operation \d+ of \d+; inputs: [^)]*\).*\(try a smaller learning rate\)", Run("--lr", "10").Stdout);
    }

    [Fact]
    public void Text_report_sentences_are_not_wrapped_when_redirected()
    {
        var text = Run("--lr", "10", "--target-loss", "0.5", "--batch", "2").Stdout;

        Assert.Contains("on dosage (3 rows), SSR loss, gradient descent with learning rate 10, batches of 2 rows shuffled with seed 1\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("stopping when every step size is below 0.001, or the loss reaches 0.5, or after 1000 steps\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Matches(@"Stopped after \d+ steps: the loss became (NaN|infinite) in step \d+: [^\n]*\(try a smaller learning rate\)\r?\n", text);
    }

    [Fact]
    public void Without_a_stopping_condition_the_settings_say_only_the_step_limit()
    {
        var text = Run("--min-step", "0", "--max-steps", "50").Stdout.ReplaceLineEndings("\n");

        Assert.Contains("\nstopping after 50 steps\n", text, StringComparison.Ordinal);
        Assert.Contains("Stopped after 50 steps: reached the maximum of 50 steps\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_report_says_why_training_stopped()
    {
        var maxSteps = Run("--max-steps", "5");
        var target = Run("--target-loss", "0.5");

        Assert.Contains("Stopped after 5 steps: reached the maximum of 5 steps", maxSteps.Stdout, StringComparison.Ordinal);
        Assert.Contains("the loss reached the target 0.5", target.Stdout, StringComparison.Ordinal);
    }

    // ---- which parameters are trained ----

    [Fact]
    public void Only_b3_changes_only_b3()
    {
        var report = RunJson("--only", "b3");
        var start = LessonStart();

        Assert.Equal(LessonNames, report.Names);
        foreach (var (name, value) in report.Parameters.Where(p => p.Key != "b3"))
        {
            AssertBits(start[name], value);
        }
        Assert.NotEqual(0.0, report["b3"]);
        Assert.True(report.Loss < report.InitialLoss);
        AssertBits(Default.InitialLoss, report.InitialLoss);
    }

    [Fact]
    public void Only_with_several_names_trains_exactly_those()
    {
        var report = RunJson("--only", "w1, b1 ,b3");
        var start = LessonStart();

        Assert.Equal("stepSizeBelowThreshold", report.StopReason);
        foreach (var name in LessonNames)
        {
            if (name is "w1" or "b1" or "b3")
            {
                Assert.NotEqual(start[name], report[name]);
            }
            else
            {
                AssertBits(start[name], report[name]);
            }
        }
    }

    [Fact]
    public void Stage_1_trains_b3_alone_to_the_lessons_optimum()
    {
        var report = RunJson("--stage", "1");
        var stage1 = Stage1Start();

        foreach (var (name, value) in report.Parameters.Where(p => p.Key != "b3"))
        {
            AssertBits(stage1[name], value);
        }
        Assert.Equal(2.61, Math.Round(report["b3"], 2));
        Assert.Equal(Ssr(stage1, SoftPlus), report.InitialLoss, 1e-12);
        Assert.Equal("stepSizeBelowThreshold", report.StopReason);
    }

    [Fact]
    public void Stage_1_text_marks_six_parameters_fixed_and_b3_trained()
    {
        var rows = TableRows(Run("--stage", "1").Stdout).Where(r => r.Length == 4 && LessonNames.Contains(r[0])).ToList();

        Assert.Equal(LessonNames, rows.Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal(r[0] == "b3" ? "yes" : "fixed", r[3]));
        Assert.Contains(rows, r => r.SequenceEqual(["w1", "3.34", "3.34", "fixed"]));
    }

    [Fact]
    public void Stage_2_trains_w3_w4_and_b3_from_the_lessons_values()
    {
        var report = RunJson("--stage", "2");
        var start = Stage1Start();
        start["w3"] = 0.36;
        start["w4"] = 0.63;

        foreach (var name in (string[])["w1", "b1", "w2", "b2"])
        {
            AssertBits(start[name], report[name]);
        }
        foreach (var name in (string[])["w3", "w4", "b3"])
        {
            Assert.NotEqual(start[name], report[name]);
        }
        Assert.Equal(Ssr(start, SoftPlus), report.InitialLoss, 1e-12);
        Assert.True(report.Loss < 0.01, $"loss {report.Loss}");
    }

    [Fact]
    public void Stage_3_is_the_default_run()
    {
        Assert.Equal(Default.Text, RunJson("--stage", "3").Text);
    }

    // ---- optimizer, loss, activation ----

    [Theory]
    [InlineData("adam")]
    [InlineData("momentum")]
    [InlineData("gd")]
    public void Optimizer_option_runs_the_librarys_optimizer(string name)
    {
        var network = LessonNetwork();
        var (result, predictions) = FitLike(network, optimizer: name);

        var report = RunJson("--optimizer", name);
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.True(report.Loss < report.InitialLoss / 10, $"loss {report.Loss}");
        Assert.Equal(name == "gd", report.Text == Default.Text);
    }

    [Fact]
    public void Mse_loss_is_the_ssr_divided_by_the_number_of_rows()
    {
        var network = LessonNetwork();
        var (result, predictions) = FitLike(network, loss: new MeanSquaredError());

        var report = RunJson("--loss", "mse");
        Assert.Equal(Ssr(LessonStart(), SoftPlus) / 3, report.InitialLoss, 1e-12);
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.Contains("Starting MSE:", Run("--loss", "mse").Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relu", "relu")]
    [InlineData("tanh", "tanh")]
    [InlineData("sigmoid", "sigmoid")]
    [InlineData("SoftPlus", "softplus")]
    public void Activation_option_changes_the_hidden_nodes(string option, string name)
    {
        var activation = Activations.Parse(name);
        Func<double, double> f = name switch
        {
            "relu" => x => Math.Max(0, x),
            "tanh" => Math.Tanh,
            "sigmoid" => x => 1 / (1 + Math.Exp(-x)),
            _ => SoftPlus,
        };
        var network = LessonNetwork(activation);
        var (result, predictions) = FitLike(network);

        var report = RunJson("--activation", option);
        Assert.Equal(LessonNames, report.Names);
        Assert.Equal(Ssr(LessonStart(), f), report.InitialLoss, 1e-12);
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.Equal(activation == Activation.SoftPlus, report.Text == Default.Text);
    }

    // ---- network shape, seeds and starting values ----

    [Fact]
    public void Layers_1_3_1_names_parameters_by_layer_and_position()
    {
        var report = RunJson("--layers", "1,3,1", "--seed", "7");

        Assert.Equal(
            [
                "layer0.weight[0,0]", "layer0.weight[0,1]", "layer0.weight[0,2]", "layer0.bias[0]", "layer0.bias[1]", "layer0.bias[2]",
                "layer1.weight[0,0]", "layer1.weight[1,0]", "layer1.weight[2,0]", "layer1.bias[0]",
            ],
            report.Names);
        Assert.Equal(3, report.Predictions.Count);
    }

    [Fact]
    public void Layers_with_the_same_seed_are_reproducible_and_a_different_seed_differs()
    {
        var first = RunJson("--layers", "1,3,1", "--seed", "7");
        var again = RunJson("--layers", "1,3,1", "--seed", "7");
        var other = RunJson("--layers", "1,3,1", "--seed", "8");

        Assert.Equal(first.Text, again.Text);
        Assert.NotEqual(first.InitialLoss, other.InitialLoss);
        Assert.NotEqual(first.Parameters, other.Parameters);
    }

    [Fact]
    public void Layers_1_3_1_is_the_library_network_with_normal_starting_values()
    {
        var network = Sequential<double>.Mlp([1, 3, 1], Activation.SoftPlus, Activation.Identity);
        Initializer.Create("normal", 7).Initialize(network);
        var (result, predictions) = FitLike(network);

        AssertSameAsLibrary(RunJson("--layers", "1,3,1", "--seed", "7"), network, result, predictions);
    }

    [Fact]
    public void Layers_1_2_1_given_explicitly_is_the_default_run()
    {
        Assert.Equal(Default.Text, RunJson("--layers", "1,2,1").Text);
        Assert.Equal(Default.Text, RunJson("--init", "lesson").Text);
    }

    [Theory]
    [InlineData("xavier")]
    [InlineData("he")]
    [InlineData("normal")]
    public void Init_option_replaces_the_lessons_starting_values(string name)
    {
        var network = LessonShaped();
        Initializer.Create(name, 1).Initialize(network);
        var (result, predictions) = FitLike(network);

        var report = RunJson("--init", name);
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.Equal(LessonNames, report.Names);
        Assert.NotEqual(Default.InitialLoss, report.InitialLoss);
        Assert.Equal(report.Text, RunJson("--init", name).Text);
        Assert.NotEqual(report.InitialLoss, RunJson("--init", name, "--seed", "2").InitialLoss);
    }

    [Fact]
    public void Different_initialisers_start_from_different_values()
    {
        var losses = new[] { "xavier", "he", "normal" }.Select(n => RunJson("--init", n, "--layers", "1,3,1").InitialLoss).ToList();

        Assert.Equal(3, losses.Distinct().Count());
    }

    // ---- data files ----

    [Theory]
    [InlineData(DosageCsv)]
    [InlineData("dose,effect\n0,0\n0.5,1\n1,0\n")]
    [InlineData("dose , effect\r\n0, 0\r\n\r\n0.5 ,1\r\n1,0")]
    public void Data_file_with_the_dosage_numbers_gives_the_default_run(string contents)
    {
        using var csv = new TempCsv(contents);

        Assert.Equal(Default.Text, RunJson("--data", csv.Path).Text);
    }

    [Fact]
    public void Data_file_header_names_the_columns_in_the_text_report()
    {
        using var csv = new TempCsv("dose,effect\n0,0\n0.5,1\n1,0\n", "trial.csv");
        var run = Run("--data", csv.Path);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("on trial.csv (3 rows)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains(TableRows(run.Stdout), r => r.SequenceEqual(["dose", "effect (observed)", "Predicted"]));
    }

    [Fact]
    public void Data_file_without_header_gets_default_column_names()
    {
        using var csv = new TempCsv(DosageCsv);
        var run = Run("--data", csv.Path);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(TableRows(run.Stdout), r => r.SequenceEqual(["x1", "y (observed)", "Predicted"]));
    }

    [Fact]
    public void Data_file_with_two_inputs_trains_a_2_4_1_network()
    {
        const string contents = "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,0.5\n";
        using var csv = new TempCsv(contents);
        var data = CsvDataset.Parse(contents, "xor.csv");
        var network = Sequential<double>.Mlp([2, 4, 1], Activation.SoftPlus, Activation.Identity);
        Initializer.Create("normal", 1).Initialize(network);
        var (result, predictions) = FitLike(network, data: data);

        var report = RunJson("--data", csv.Path, "--layers", "2,4,1");
        Assert.Equal((2 * 4) + 4 + 4 + 1, report.Parameters.Count);
        Assert.Equal(5, report.Predictions.Count);
        AssertSameAsLibrary(report, network, result, predictions);
    }

    [Fact]
    public void Data_file_with_two_inputs_defaults_to_two_hidden_nodes()
    {
        using var csv = new TempCsv("0,0,0\n0,1,1\n1,0,1\n1,1,0\n");

        var report = RunJson("--data", csv.Path);
        Assert.Equal((2 * 2) + 2 + 2 + 1, report.Parameters.Count);
        Assert.Equal(4, report.Predictions.Count);
    }

    // Cross-entropy runs are classification runs: see ClassificationTests.

    // ---- mini-batches ----

    [Fact]
    public void Batch_2_is_the_library_run_with_mini_batches()
    {
        var network = LessonNetwork();
        var (result, predictions) = FitLike(network, options: new TrainingOptions { BatchSize = 2, ShuffleSeed = 1 });

        var report = RunJson("--batch", "2");
        AssertSameAsLibrary(report, network, result, predictions);
        Assert.NotEqual(Default.Text, report.Text);
        Assert.Contains("batches of 2 rows", Run("--batch", "2").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_seed_changes_the_order_of_rows()
    {
        var first = RunJson("--batch", "2");

        Assert.Equal(first.WithoutTimes, RunJson("--batch", "2").WithoutTimes);
        Assert.NotEqual(first.WithoutTimes, RunJson("--batch", "2", "--seed", "2").WithoutTimes);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("100")]
    public void Batch_of_all_rows_or_more_is_the_full_batch_run(string rows)
    {
        Assert.Equal(Default.Text, RunJson("--batch", rows).Text);
    }
}
