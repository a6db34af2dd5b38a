using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Training;
using static Backprop.Tests.Serialization.OnnxExportTests;

namespace Backprop.Tests.Serialization;

/// <summary>Runs only where the Fashion-MNIST files are installed (/usr/share/datasets/fashion-mnist).</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!File.Exists(Path.Combine(FashionMnistSlice.Folder, "t10k-images-idx3-ubyte.gz")))
        {
            Skip = $"Fashion-MNIST is not installed in {FashionMnistSlice.Folder}";
        }
    }
}

/// <summary>
/// The first rows of Fashion-MNIST's test set, read straight from the gzipped IDX files.
/// </summary>
/// <remarks>NOTE: a minimal reader for this test only; the library's own IDX reader comes with the datasets issue.</remarks>
internal static class FashionMnistSlice
{
    public const string Folder = "/usr/share/datasets/fashion-mnist";

    public static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Pixels scaled to [0, 1], [count, 784], and labels 0–9.</summary>
    public static (float[] Pixels, float[] Labels) Load(int count)
    {
        var images = ReadGzip("t10k-images-idx3-ubyte.gz", 16 + (count * 784));
        var labels = ReadGzip("t10k-labels-idx1-ubyte.gz", 8 + count);
        Assert.Equal(0x803, BinaryPrimitives.ReadInt32BigEndian(images));
        Assert.Equal(0x801, BinaryPrimitives.ReadInt32BigEndian(labels));
        return ([.. images[16..].Select(b => b / 255f)], [.. labels[8..].Select(b => (float)b)]);
    }

    private static byte[] ReadGzip(string name, int length)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Folder, name)), CompressionMode.Decompress);
        var bytes = new byte[length];
        gzip.ReadExactly(bytes);
        return bytes;
    }
}

/// <summary>A small Fashion-MNIST classifier gives the same logits and probabilities in ONNX Runtime.</summary>
public sealed class FashionMnistOnnxTests
{
    [FashionMnistFact]
    public void A_fashion_mnist_classifier_gives_backprops_outputs_in_onnx_runtime()
    {
        const int Train = 600, Test = 200;
        var (pixels, labels) = FashionMnistSlice.Load(Train + Test);
        var mean = pixels.Average(p => (double)p);
        var std = Math.Sqrt(pixels.Average(p => (p - mean) * (p - mean)));
        var normalization = new InputNormalization([.. Enumerable.Repeat(mean, 784)], [.. Enumerable.Repeat(std, 784)]);
        var network = Sequential<float>.Mlp([784, 32, 10], Activation.Relu);
        new HeInitializer(5).Initialize(network);
        var model = new Model<float>(network) { Normalization = normalization, ClassNames = FashionMnistSlice.ClassNames };
        var x = new Tensor<float>(pixels.AsSpan(0, Train * 784), new Shape(Train, 784));
        var normalized = new Tensor<float>(new Shape(Train, 784));
        for (var i = 0; i < normalized.Length; i++)
        {
            normalized[i] = (x[i] - (float)mean) / (float)std;
        }
        new Trainer<float>(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.003))
            .Fit(normalized, new Tensor<float>(labels.AsSpan(0, Train), new Shape(Train)), new TrainingOptions { MaxSteps = 60, MinStepSize = null, BatchSize = 100 });
        using var folder = new TempFolder();
        model.Save(folder.File("fashion.bpm"));
        var loaded = Model<float>.Load(folder.File("fashion.bpm"));
        loaded.ExportOnnx(folder.File("fashion.onnx"));
        var test = pixels[(Train * 784)..];
        var testX = new Tensor<float>(test, new Shape(Test, 784));

        var onnx = RunOnnx(folder.File("fashion.onnx"), test, 784);

        // Backprop's float logits and ONNX Runtime's, compared directly (both blocked GEMMs; measured
        // 1.4e-6 apart on logits up to ~15), and both against the same float weights evaluated in
        // double (exact products, one rounding per layer).
        AssertClose(Floats(loaded.Predict(testX)), onnx["output"]);
        var exact = Model<double>.Load(folder.File("fashion.bpm"));
        var exactX = new Tensor<double>([.. test.Select(v => (double)v)], new Shape(Test, 784));
        AssertClose([.. exact.Predict(exactX).ToDoubleArray().Select(v => (float)v)], onnx["output"]);
        AssertClose([.. exact.PredictProbabilities(exactX).ToDoubleArray().Select(v => (float)v)], onnx["probabilities"]);
        AssertClose(Floats(loaded.PredictProbabilities(testX)), onnx["probabilities"]);
        var correct = Enumerable.Range(0, Test).Count(r => ArgMax(onnx["probabilities"].AsSpan(r * 10, 10)) == (int)labels[Train + r]);
        Assert.True(correct > Test / 2, $"{correct} of {Test} test images right: the classifier did not learn");
    }
}
