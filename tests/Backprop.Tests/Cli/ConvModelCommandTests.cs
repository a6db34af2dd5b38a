using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Tests.Data;
using Backprop.Tests.Serialization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>A conv model saved by <c>train --net … --out</c> through <c>predict</c>, <c>evaluate</c> and <c>export</c>: images as rows of C×H×W numbers.</summary>
public sealed class ConvModelCommandTests
{
    private const string Net = "conv 2 3 relu, maxpool 2, flatten, dense 10";

    private static JsonElement Json(params string[] args)
    {
        var run = Run([.. args, "--json"]);
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        Assert.Equal("", run.Stderr);
        using var document = JsonDocument.Parse(run.Stdout);
        return document.RootElement.Clone();
    }

    private static string Row(ReadOnlySpan<double> values)
    {
        var text = new StringBuilder();
        foreach (var v in values)
        {
            text.Append(text.Length == 0 ? "" : ",").Append(v.ToString("R", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    [Backprop.Tests.Data.FashionMnistFact]
    public void A_conv_model_takes_images_as_rows_in_predict_and_evaluate_and_exports_an_image_input()
    {
        using var folder = new TempFolder();
        var model = folder.File("cnn.bpm");
        var train = Run("train", "--dataset", "fashion-mnist", "--limit", "200", "--net", Net, "--epochs", "1", "--batch", "50", "--out", model, "--quiet");
        Assert.True(train.ExitCode == 0, train.Stderr);
        var loaded = Model<double>.Load(model);
        Assert.Equal(new Shape(1, 28, 28), loaded.InputShape);
        // Three test images, each one row of 784 pixels from 0 to 1, and their labels.
        var images = FashionMnist.LoadTest().Take(3);
        var pixels = images.Inputs.ToArray();
        var rows = Enumerable.Range(0, 3).Select(r => Row(pixels.AsSpan(r * 784, 784))).ToList();
        var unlabelled = folder.File("images.csv");
        File.WriteAllLines(unlabelled, rows);
        var labelled = folder.File("labelled.csv");
        File.WriteAllLines(labelled, rows.Select((row, r) => row + "," + images.Targets[r].ToString(CultureInfo.InvariantCulture)));
        var asImages = new Backprop.Tensors.Tensor<double>(pixels, new Shape(3, 1, 28, 28));
        var probabilities = loaded.PredictProbabilities(asImages);

        // predict --data and --input: the library's probabilities for the same images, bit for bit.
        var predicted = Json("predict", "--model", model, "--data", unlabelled).GetProperty("predictions");
        var one = Json("predict", "--model", model, "--input", rows[0]).GetProperty("predictions");
        Assert.Equal(3, predicted.GetArrayLength());
        for (var r = 0; r < 3; r++)
        {
            Assert.Equal(probabilities.Data.Slice(r * 10, 10).ToArray(), predicted[r].GetProperty("probabilities").EnumerateArray().Select(p => p.GetDouble()));
        }
        Assert.Equal(predicted[0].GetRawText(), Assert.Single(one.EnumerateArray()).GetRawText());

        // evaluate --data: the accuracy of those predictions; --dataset: all 10,000 test images.
        var correct = Enumerable.Range(0, 3).Count(r => Backprop.Training.ConfusionMatrix.ArgMax(probabilities.Data.Slice(r * 10, 10)) == (int)images.Targets[r]);
        var few = Json("evaluate", "--model", model, "--data", labelled);
        Assert.Equal(3, few.GetProperty("rows").GetInt32());
        Assert.Equal(correct / 3.0, few.GetProperty("accuracy").GetDouble());
        var all = Json("evaluate", "--model", model, "--dataset", "fashion-mnist");
        Assert.Equal(10_000, all.GetProperty("rows").GetInt32());
        Assert.Equal(10_000, all.GetProperty("confusionMatrix").EnumerateArray().Sum(row => row.EnumerateArray().Sum(c => c.GetInt32())));

        // export: the ONNX input is [batch, 1, 28, 28], and ONNX Runtime gives the model's logits.
        var onnx = folder.File("cnn.onnx");
        var text = Run("export", "--model", model, "--onnx", onnx);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Equal($"Wrote {onnx}: ONNX opset 17, float32; input 'input' [batch, 1, 28, 28], output 'output' [batch, 10], output 'probabilities' [batch, 10]\n", text.Stdout.ReplaceLineEndings("\n"));
        var report = Json("export", "--model", model, "--onnx", onnx);
        Assert.Equal([1, 28, 28], report.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(784, report.GetProperty("inputs").GetInt32());
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor<float>(pixels.Select(p => (float)p).ToArray(), [3, 1, 28, 28]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var logits = results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
        // float32 in ONNX Runtime against the double model: sums of a few hundred products.
        OnnxExportTests.AssertClose([.. loaded.Predict(asImages).ToDoubleArray().Select(v => (float)v)], logits, 1e-4);
    }
}
