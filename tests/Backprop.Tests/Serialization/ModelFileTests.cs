using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Backprop.Nn;
using Backprop.Serialization;
using static Backprop.Tests.Serialization.ModelTestData;

namespace Backprop.Tests.Serialization;

/// <summary>Saving and loading model files: everything comes back, bit for bit.</summary>
public sealed class ModelFileTests
{
    private static void AssertSameBits<T>(Backprop.Tensors.Tensor<T> expected, Backprop.Tensors.Tensor<T> actual) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(
                BitConverter.DoubleToInt64Bits(double.CreateTruncating(expected[i])) == BitConverter.DoubleToInt64Bits(double.CreateTruncating(actual[i])),
                $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void The_lesson_network_comes_back_with_its_names_values_metadata_and_predictions_bit_for_bit()
    {
        using var folder = new TempFolder();
        var model = TrainedLesson();
        var x = Rows<double>(1, 0, 0.25, 0.5, 0.75, 1, 3.7, -12);

        model.Save(folder.File("lesson.bpm"));
        var loaded = Model<double>.Load(folder.File("lesson.bpm"));

        AssertSameBits(model.Predict(x), loaded.Predict(x));
        Assert.Equal(model.Network.Elements().Select(e => (e.Name, e.Value)), loaded.Network.Elements().Select(e => (e.Name, e.Value)));
        Assert.Equal(Lesson.ParameterNames.Order(StringComparer.Ordinal), loaded.Network.Elements().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(model.Network.Describe(), loaded.Network.Describe());
        Assert.Equal(model.Metadata, loaded.Metadata);
        Assert.Equal(1UL, loaded.Metadata.Seed);
        Assert.Equal("ssr", loaded.Metadata.Loss);
        Assert.Equal(["Dosage"], loaded.Metadata.InputNames!);
        Assert.Matches("^sha256:[0-9a-f]{64}$", loaded.Metadata.DataFingerprint!);
        Assert.False(loaded.IsClassifier);
        Assert.Null(loaded.Normalization);
    }

    [Fact]
    public void A_float_classifier_keeps_its_normalisation_class_names_and_probabilities_bit_for_bit()
    {
        using var folder = new TempFolder();
        var model = TrainedClassifier<float>();
        var x = Rows<float>(2, Blobs(5).Inputs.ToArray());

        model.Save(folder.File("classifier.bpm"));
        var loaded = Model<float>.Load(folder.File("classifier.bpm"));

        AssertSameBits(model.Predict(x), loaded.Predict(x));
        AssertSameBits(model.PredictProbabilities(x), loaded.PredictProbabilities(x));
        Assert.Equal(["left", "right", "top"], loaded.ClassNames!);
        Assert.Equal(model.Normalization!.Mean, loaded.Normalization!.Mean);
        Assert.Equal(model.Normalization.StdDev, loaded.Normalization.StdDev);
        Assert.Equal(model.Network.Describe(), loaded.Network.Describe());
        Assert.Equal("cross-entropy", loaded.Metadata.Loss);
    }

    [Fact]
    public void Normalisation_is_applied_before_the_first_layer()
    {
        var network = new Sequential<double>(new Dense<double>(2, 1));
        network.Layers.OfType<Dense<double>>().Single().Weight.Data.Fill(1);
        var model = new Model<double>(network) { Normalization = new InputNormalization([10, -1], [2, 0.5]) };

        var y = model.Predict(Rows<double>(2, 14, 0));

        Assert.Equal(((14 - 10) / 2.0) + ((0 + 1) / 0.5), y[0]);
    }

    [Fact]
    public void Probabilities_are_a_stable_softmax_of_the_logits()
    {
        var network = new Sequential<double>(new Dense<double>(1, 3));
        var dense = network.Layers.OfType<Dense<double>>().Single();
        dense.Bias.Data[0] = 1000;
        dense.Bias.Data[1] = 1000 + Math.Log(3);
        dense.Bias.Data[2] = -1000;
        var model = new Model<double>(network) { ClassNames = ["a", "b", "c"] };

        var p = model.PredictProbabilities(Rows<double>(1, 0));

        Assert.Equal(0.25, p[0], 12);
        Assert.Equal(0.75, p[1], 12);
        Assert.Equal(0, p[2]);
    }

    [Fact]
    public void A_double_file_loads_as_float_rounded_to_the_nearest_float()
    {
        using var folder = new TempFolder();
        var model = TrainedLesson();
        model.Save(folder.File("lesson.bpm"));

        var loaded = Model<float>.Load(folder.File("lesson.bpm"));

        Assert.Equal(model.Network.Elements().Select(e => (float)e.Value), loaded.Network.Elements().Select(e => e.Value));
    }

    [Fact]
    public void The_file_is_the_documented_layout_magic_version_header_little_endian_arrays_and_sha256()
    {
        var model = TrainedLesson();

        var bytes = ModelFile.ToBytes(model);

        Assert.Equal("BPMODEL\0"u8.ToArray(), bytes[..8]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        var headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        var header = Encoding.UTF8.GetString(bytes, 16, headerLength);
        Assert.Contains("\"format\": \"backprop-model\"", header, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(header);
        Assert.Equal("[1]", json.RootElement.GetProperty("inputShape").GetRawText().Replace(" ", "", StringComparison.Ordinal).ReplaceLineEndings(""));
        var first = json.RootElement.GetProperty("layers")[0];
        Assert.Equal("dense", first.GetProperty("kind").GetString());
        Assert.Equal("softplus", first.GetProperty("fields").GetProperty("activation").GetString());
        var weight = first.GetProperty("arrays")[0];
        Assert.Equal("layer0.weight", weight.GetProperty("name").GetString());
        Assert.Equal(["w1", "w2"], weight.GetProperty("elementNames").EnumerateArray().Select(e => e.GetString()));
        // The first array is layer0.weight [1, 2] = (w1, w2), as float64 little-endian.
        var w1 = model.Network.Element("w1").Value;
        Assert.Equal(w1, BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(16 + headerLength)));
        Assert.Equal(16 + headerLength + (7 * 8) + 32, bytes.Length);
        Assert.Equal(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)), bytes[^32..]);
    }

    [Fact]
    public void Saving_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        using var folder = new TempFolder();
        var path = folder.File("model.bpm");
        File.WriteAllText(path, "an older file");

        TrainedLesson().Save(path);

        Assert.Equal(["model.bpm"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        Assert.NotNull(Model<double>.Load(path));
    }

    [Fact]
    public void A_model_rejects_class_names_or_normalisation_that_do_not_fit_the_network()
    {
        var network = Lesson.CreateNetwork<double>();

        var classes = Assert.Throws<BackpropException>(() => new Model<double>(network) { ClassNames = ["a", "b"] });
        var normalization = Assert.Throws<BackpropException>(() => new Model<double>(network) { Normalization = new InputNormalization([0, 0], [1, 1]) });
        var std = Assert.Throws<BackpropException>(() => new InputNormalization([0], [0]));
        var regression = Assert.Throws<BackpropException>(() => new Model<double>(network).PredictProbabilities(Rows<double>(1, 0)));
        var shape = Assert.Throws<BackpropException>(() => new Model<double>(network).Predict(Rows<double>(2, 0, 1)));

        Assert.Contains("1 outputs and 2 class names", classes.Message, StringComparison.Ordinal);
        Assert.Contains("for 2 inputs; the network takes 1", normalization.Message, StringComparison.Ordinal);
        Assert.Contains("standard deviation of input 1 is 0", std.Message, StringComparison.Ordinal);
        Assert.Contains("no class names", regression.Message, StringComparison.Ordinal);
        Assert.Contains("rows of 1 input", shape.Message, StringComparison.Ordinal);
    }
}
