using Backprop.Nn;
using Backprop.Serialization;
using Backprop.Tensors;
using Microsoft.ML.OnnxRuntime;
using static Backprop.Tests.Serialization.ModelTestData;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace Backprop.Tests.Serialization;

/// <summary>
/// Exported models run in ONNX Runtime and give Backprop's outputs: within 1e-5 in float32, for
/// every batch size (the batch dimension is dynamic).
/// </summary>
public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-5;

    /// <summary>Runs the ONNX file on [rows, columns] inputs; returns each output by name.</summary>
    internal static Dictionary<string, float[]> RunOnnx(string path, float[] inputs, int columns)
    {
        using var session = new InferenceSession(path);
        var tensor = new DenseTensor(inputs, [inputs.Length / columns, columns]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    internal static float[] Floats(Tensor<float> t) => t.Data.ToArray();

    internal static void AssertClose(float[] expected, float[] actual, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        Assert.True(worst <= tolerance, $"max abs difference {worst:G3} > {tolerance:G3}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(101)]
    public void The_lesson_network_gives_Backprops_predictions_in_onnx_runtime(int rows)
    {
        using var folder = new TempFolder();
        var trained = TrainedLesson();
        trained.Save(folder.File("lesson.bpm"));
        var model = Model<float>.Load(folder.File("lesson.bpm"));
        model.ExportOnnx(folder.File("lesson.onnx"));
        var dosages = Enumerable.Range(0, rows).Select(i => rows == 1 ? 0.5 : (-0.5 + (2.0 * i / (rows - 1)))).ToArray();

        var onnx = RunOnnx(folder.File("lesson.onnx"), [.. dosages.Select(d => (float)d)], 1);

        Assert.Equal(["output"], onnx.Keys);
        AssertClose(Floats(model.Predict(Rows<float>(1, dosages))), onnx["output"]);
        // The float export also matches the double network it came from.
        AssertClose([.. trained.Predict(Rows<double>(1, dosages)).ToDoubleArray().Select(v => (float)v)], onnx["output"]);
    }

    [Fact]
    public void A_classifier_with_normalisation_and_every_activation_gives_the_same_logits_and_probabilities()
    {
        using var folder = new TempFolder();
        var model = TrainedClassifier<float>();
        model.ExportOnnx(folder.File("classifier.onnx"));
        var data = Blobs(perClass: 30);
        var inputs = Rows<float>(2, data.Inputs.ToArray());

        var onnx = RunOnnx(folder.File("classifier.onnx"), Floats(inputs), 2);

        AssertClose(Floats(model.Predict(inputs)), onnx["output"]);
        AssertClose(Floats(model.PredictProbabilities(inputs)), onnx["probabilities"]);
        // Trained, not trivially constant: the probabilities pick the right class for most rows.
        var probabilities = onnx["probabilities"];
        var correct = Enumerable.Range(0, data.Count).Count(r => ArgMax(probabilities.AsSpan(r * 3, 3)) == (int)data.Targets[r]);
        Assert.True(correct > data.Count * 0.8, $"{correct} of {data.Count} correct");
    }

    [Fact]
    public void A_double_model_exports_float_weights_that_track_the_double_outputs()
    {
        using var folder = new TempFolder();
        var model = TrainedClassifier<double>();
        model.ExportOnnx(folder.File("classifier.onnx"));
        var inputs = Blobs(perClass: 10).Inputs.ToArray();

        var onnx = RunOnnx(folder.File("classifier.onnx"), [.. inputs.Select(v => (float)v)], 2);

        AssertClose([.. model.PredictProbabilities(Rows<double>(2, inputs)).ToDoubleArray().Select(v => (float)v)], onnx["probabilities"]);
    }

    [Fact]
    public void The_model_declares_opset_17_a_dynamic_batch_and_its_producer()
    {
        using var folder = new TempFolder();
        TrainedClassifier<float>().ExportOnnx(folder.File("classifier.onnx"));

        using var session = new InferenceSession(folder.File("classifier.onnx"));

        Assert.Equal([-1, 2], session.InputMetadata["input"].Dimensions);
        Assert.Equal(["batch", ""], session.InputMetadata["input"].SymbolicDimensions);
        Assert.Equal([-1, 3], session.OutputMetadata["output"].Dimensions);
        Assert.Equal([-1, 3], session.OutputMetadata["probabilities"].Dimensions);
        Assert.Equal("Backprop", session.ModelMetadata.ProducerName);
        Assert.Equal("left\nright\ntop", session.ModelMetadata.CustomMetadataMap["backprop.classNames"]);
        var bytes = File.ReadAllBytes(folder.File("classifier.onnx"));
        // ModelProto.opset_import: field 8, a 4-byte OperatorSetIdProto {domain "" (0x0A 0x00), version 17 (0x10 0x11)}.
        Assert.True(bytes.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x42, 0x04, 0x0A, 0x00, 0x10, 0x11]) >= 0, "opset_import {\"\", 17} not found");
    }

    [Fact]
    public void Exporting_replaces_a_file_whole_and_a_missing_folder_is_one_clear_error()
    {
        using var folder = new TempFolder();
        var path = folder.File("model.onnx");
        File.WriteAllText(path, "old contents");
        var model = TrainedLesson();

        model.ExportOnnx(path);
        var error = Assert.Throws<BackpropException>(() => model.ExportOnnx(folder.File("missing/model.onnx")));

        Assert.NotEqual("old contents", File.ReadAllText(path));
        Assert.Equal(["model.onnx"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        Assert.Contains("missing/model.onnx", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }
}
