using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Serialization;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary><c>train --out</c>, <c>predict</c>, <c>evaluate</c> and <c>export</c>: a model made on the command line and used there.</summary>
public sealed class ModelCommandTests
{
    private static JsonElement Json(params string[] args)
    {
        var run = Run([.. args, "--json"]);
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        Assert.Equal("", run.Stderr);
        using var document = JsonDocument.Parse(run.Stdout);
        return document.RootElement.Clone();
    }

    private static string Ok(params string[] args)
    {
        var run = Run(args);
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        Assert.Equal("", run.Stderr);
        return run.Stdout;
    }

    /// <summary>The blobs, moved to around the origin (the command does not standardise inputs), as a CSV file: x, y, class index.</summary>
    private static string BlobsCsv(TempFolder folder, int perClass = 40)
    {
        var data = ModelTestData.Blobs(perClass);
        var text = new StringBuilder("x,y,class\n");
        for (var r = 0; r < data.Count; r++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{data.Inputs[2 * r] - 11:R},{data.Inputs[(2 * r) + 1] - 21:R},{data.Targets[r]}\n");
        }
        var path = folder.File("blobs.csv");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    [Fact]
    public void Train_out_saves_the_trained_network_its_metadata_and_predict_gives_the_same_numbers_bit_for_bit()
    {
        using var folder = new TempFolder();
        var path = folder.File("lesson.bpm");

        var report = RunJson("--out", path);
        var model = Model<double>.Load(path);
        var predicted = Json("predict", "--model", path, "--input", "0.5").GetProperty("predictions")[0][0].GetDouble();

        foreach (var name in LessonNames)
        {
            AssertBits(report[name], model.Network.Element(name).Value);
        }
        AssertBits(report.Predictions[1], predicted);
        Assert.Null(model.Metadata.Seed);   // the lesson's starting values involve no random draw
        Assert.Equal("dosage", model.Metadata.DataName);
        Assert.Equal(DataFingerprint.Of(Backprop.Data.Datasets.Dosage), model.Metadata.DataFingerprint);
        AssertBits(report.Loss, model.Metadata.FinalLoss!.Value);
        Assert.Equal(ModelMetadata.CurrentLibraryVersion, model.Metadata.LibraryVersion);
        Assert.InRange(model.Metadata.Created, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public void Train_out_records_the_seed_of_random_starting_values_and_says_where_it_saved()
    {
        using var folder = new TempFolder();
        var path = folder.File("relu.bpm");

        var text = Ok("train", "--layers", "1,3,1", "--activation", "relu", "--seed", "42", "--out", path);

        Assert.Contains($"Model saved to {path}", text, StringComparison.Ordinal);
        Assert.Equal(42UL, Model<double>.Load(path).Metadata.Seed);
    }

    [Fact]
    public void Predict_reads_a_csv_with_or_without_the_target_column_and_header()
    {
        using var folder = new TempFolder();
        var model = folder.File("lesson.bpm");
        Ok("--out", model);
        File.WriteAllText(folder.File("inputs.csv"), "0\n0.5\n1\n");
        File.WriteAllText(folder.File("training.csv"), "dose,effect\n0,0\n0.5,1\n1,0\n");

        var report = RunJson();
        var fromInputs = Json("predict", "--model", model, "--data", folder.File("inputs.csv")).GetProperty("predictions");
        var fromTraining = Json("predict", "--model", model, "--data", folder.File("training.csv")).GetProperty("predictions");

        Assert.Equal(3, fromInputs.GetArrayLength());
        for (var r = 0; r < 3; r++)
        {
            AssertBits(report.Predictions[r], fromInputs[r][0].GetDouble());
            AssertBits(report.Predictions[r], fromTraining[r][0].GetDouble());
        }
    }

    [Fact]
    public void Predict_text_shows_the_inputs_and_the_prediction()
    {
        using var folder = new TempFolder();
        var model = folder.File("lesson.bpm");
        Ok("--out", model);

        var rows = TableRows(Ok("predict", "--model", model, "--input", "0.5"));

        Assert.Equal(["Dosage", "Efficacy (predicted)"], rows[0]);
        Assert.Equal(["0.5", F(RunJson().Predictions[1])], rows[1]);
    }

    [Fact]
    public void A_classifier_predicts_class_names_and_probabilities_and_evaluates_with_accuracy_and_a_confusion_matrix()
    {
        using var folder = new TempFolder();
        var csv = BlobsCsv(folder);
        var model = folder.File("blobs.bpm");
        Ok("train", "--data", csv, "--loss", "cross-entropy", "--layers", "2,8,3", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.05", "--max-steps", "1000", "--quiet", "--out", model); // --quiet: on a busy machine this run can take long enough for a progress line on stderr

        var one = Json("predict", "--model", model, "--input", "-1,-1");
        var all = Json("predict", "--model", model, "--data", csv);
        var evaluation = Json("evaluate", "--model", model, "--data", csv);
        var text = Ok("evaluate", "--model", model, "--data", csv);

        Assert.Equal(["0", "1", "2"], one.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        var first = one.GetProperty("predictions")[0];
        var probabilities = first.GetProperty("probabilities").EnumerateArray().Select(p => p.GetDouble()).ToArray();
        Assert.Equal(1.0, probabilities.Sum(), 12);
        Assert.Equal(probabilities.Max(), probabilities[int.Parse(first.GetProperty("class").GetString()!, CultureInfo.InvariantCulture)]);
        Assert.Equal(120, all.GetProperty("predictions").GetArrayLength());
        Assert.Equal("cross-entropy", evaluation.GetProperty("lossName").GetString());
        var matrix = evaluation.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(120, matrix.Sum(r => r.Sum()));
        Assert.All(matrix, row => Assert.Equal(40, row.Sum()));   // rows are the observed classes
        var correct = matrix[0][0] + matrix[1][1] + matrix[2][2];
        Assert.Equal(correct / 120.0, evaluation.GetProperty("accuracy").GetDouble());
        Assert.True(correct > 90, $"{correct} of 120 correct");
        // The predictions in the confusion matrix are predict's classes.
        var predictedClasses = all.GetProperty("predictions").EnumerateArray().Select(p => int.Parse(p.GetProperty("class").GetString()!, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(correct, Enumerable.Range(0, 120).Count(r => predictedClasses[r] == r % 3));
        Assert.Contains($"Accuracy: ", text, StringComparison.Ordinal);
        Assert.Contains($"({correct} of 120)", text, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix (rows: observed, columns: predicted)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_reports_the_loss_the_model_was_trained_with()
    {
        using var folder = new TempFolder();
        var model = folder.File("lesson.bpm");
        Ok("--out", model);

        var evaluation = Json("evaluate", "--model", model, "--dataset", "dosage");

        Assert.Equal("ssr", evaluation.GetProperty("lossName").GetString());
        AssertBits(RunJson().Loss, evaluation.GetProperty("loss").GetDouble());
        Assert.False(evaluation.TryGetProperty("accuracy", out _));
        Assert.Equal(3, evaluation.GetProperty("rows").GetInt32());
    }

    [Fact]
    public void Export_writes_an_onnx_file_that_onnx_runtime_runs()
    {
        using var folder = new TempFolder();
        var model = folder.File("lesson.bpm");
        Ok("--out", model);
        var onnx = folder.File("lesson.onnx");

        var report = Json("export", "--model", model, "--onnx", onnx);
        var outputs = OnnxExportTests.RunOnnx(onnx, [0f, 0.5f, 1f], 1);

        Assert.Equal(17, report.GetProperty("opset").GetInt32());
        OnnxExportTests.AssertClose([.. RunJson().Predictions.Select(p => (float)p)], outputs["output"]);
    }

    [Theory]
    [InlineData("predict --model M", "--input|--data")]
    [InlineData("predict --model M --input 0.5 --data M", "--input|--data|not both")]
    [InlineData("predict --model M --input 0.5,1", "--input has 2 numbers|takes 1")]
    [InlineData("predict --model M --input abc", "--input|'abc'")]
    [InlineData("predict --model M --input NaN", "--input|'NaN'")]
    [InlineData("predict --input 0.5", "--model")]
    [InlineData("predict --model NOFILE --input 0.5", "NOFILE|cannot read the model file")]
    [InlineData("predict --model CSV --input 0.5", "CSV|not a Backprop model file")]
    [InlineData("predict --model M --data NOFILE", "NOFILE|cannot read")]
    [InlineData("predict --model M --data WIDE", "WIDE|.csv:1: has 3 columns|takes 1 input")]
    [InlineData("evaluate --model M", "--data|--dataset")]
    [InlineData("evaluate --model M --dataset iris", "'iris'|dosage")]
    [InlineData("evaluate --model M --data WIDE", "2 input columns|takes 1")]
    [InlineData("export --model M", "--onnx")]
    [InlineData("export --model M --onnx NODIR", "NODIR|does not exist")]
    [InlineData("export --model CSV --onnx OUT", "CSV|not a Backprop model file")]
    [InlineData("train --out NODIR", "NODIR|does not exist")]
    public void Bad_model_command_input_gives_one_line_naming_the_problem(string args, string mentions)
    {
        using var folder = new TempFolder();
        var model = folder.File("lesson.bpm");
        Ok("--out", model);
        File.WriteAllText(folder.File("data.csv"), "dose,effect\n0,0\n");
        File.WriteAllText(folder.File("wide.csv"), "a,b,c\n0,0,0\n");
        var paths = new Dictionary<string, string>
        {
            ["M"] = model,
            ["NOFILE"] = folder.File("missing.bpm"),
            ["CSV"] = folder.File("data.csv"),
            ["WIDE"] = folder.File("wide.csv"),
            ["NODIR"] = folder.File("no-such-folder/out.bpm"),
            ["OUT"] = folder.File("out.onnx"),
        };

        var message = AssertBadInput(Run([.. args.Split(' ').Select(a => paths.GetValueOrDefault(a, a))]));

        foreach (var mention in mentions.Split('|'))
        {
            Assert.Contains(paths.GetValueOrDefault(mention, mention), message, StringComparison.Ordinal);
        }
        // Nothing was written for a failed command: the folder holds only what the test put there.
        Assert.Equal(["data.csv", "lesson.bpm", "wide.csv"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("predict", "--model|--input|--data|--json")]
    [InlineData("evaluate", "--model|--data|--dataset|--json")]
    [InlineData("export", "--model|--onnx|--json")]
    [InlineData("train", "--out")]
    public void Help_lists_each_model_commands_options(string command, string options)
    {
        var help = Ok(command, "--help");

        Assert.Contains($"backprop {command} [options]", help, StringComparison.Ordinal);
        foreach (var option in options.Split('|'))
        {
            Assert.Contains(option, help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_failed_train_out_leaves_an_existing_model_file_as_it_was()
    {
        using var folder = new TempFolder();
        var model = folder.File("lesson.bpm");
        Ok("--out", model);
        var before = File.ReadAllBytes(model);

        AssertBadInput(Run("--out", model, "--lr", "0"));

        Assert.Equal(before, File.ReadAllBytes(model));
    }
}
