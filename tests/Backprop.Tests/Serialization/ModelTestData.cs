using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Serialization;

/// <summary>Trained models shared by the serialization tests, and a temporary folder to write them to.</summary>
internal static class ModelTestData
{
    /// <summary>The lesson's network trained by the lesson's rules, with its metadata.</summary>
    public static Model<double> TrainedLesson()
    {
        var network = Lesson.CreateNetwork<double>();
        var loss = new SumSquaredResiduals();
        var data = Datasets.Dosage;
        var result = new Trainer<double>(network, loss, new GradientDescent<double>(network.Parameters(), Lesson.LearningRate))
            .Fit(data.InputTensor<double>(), data.TargetTensor<double>());
        return new Model<double>(network) { Metadata = ModelMetadata.FromTraining(result, data, loss, seed: 1) };
    }

    /// <summary>
    /// Three classes of points in the plane (blobs around (0,0), (3,1) and (1,4), far from zero mean
    /// and unit scale, so that the normalisation matters), drawn with a fixed seed.
    /// </summary>
    public static Dataset Blobs(int perClass = 40)
    {
        var rng = new Rng(7);
        double[][] centres = [[10, 20], [13, 21], [11, 24]];
        var inputs = new List<double>();
        var targets = new List<double>();
        for (var i = 0; i < perClass; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                inputs.Add(centres[c][0] + rng.NextNormal());
                inputs.Add(centres[c][1] + (2 * rng.NextNormal()));
                targets.Add(c);
            }
        }
        return new Dataset("blobs", [.. inputs], [.. targets], ["x", "y"], ["class"]);
    }

    /// <summary>A classifier with every activation, inputs standardised, trained a little on <see cref="Blobs"/>.</summary>
    public static Model<T> TrainedClassifier<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var data = Blobs();
        var normalization = Standardize(data);
        var network = new Sequential<T>(
            new Dense<T>(2, 8, Activation.Tanh),
            new Dense<T>(8, 8, Activation.SoftPlus),
            new Dense<T>(8, 6, Activation.Sigmoid),
            new ActivationLayer<T>(Activation.Relu),
            new Dense<T>(6, 3));
        new XavierInitializer(3).Initialize(network);
        var x = Normalized(data, normalization).InputTensor<T>();
        var loss = new CrossEntropy();
        var result = new Trainer<T>(network, loss, new Adam<T>(network.Parameters(), 0.05))
            .Fit(x, data.TargetTensor<T>(), new TrainingOptions { MaxSteps = 200, MinStepSize = null });
        return new Model<T>(network)
        {
            Normalization = normalization,
            ClassNames = ["left", "right", "top"],
            Metadata = ModelMetadata.FromTraining(result, data, loss, seed: 3),
        };
    }

    public static InputNormalization Standardize(Dataset data)
    {
        var mean = new double[data.InputCount];
        var std = new double[data.InputCount];
        for (var c = 0; c < data.InputCount; c++)
        {
            var column = Enumerable.Range(0, data.Count).Select(r => data.Inputs[(r * data.InputCount) + c]).ToArray();
            mean[c] = column.Average();
            std[c] = Math.Sqrt(column.Average(v => (v - mean[c]) * (v - mean[c])));
        }
        return new InputNormalization(mean, std);
    }

    private static Dataset Normalized(Dataset data, InputNormalization n)
    {
        var inputs = data.Inputs.ToArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (inputs[i] - n.Mean[i % n.Count]) / n.StdDev[i % n.Count];
        }
        return new Dataset(data.Name, inputs, data.Targets.ToArray(), data.InputNames, data.TargetNames);
    }

    /// <summary>Rows of inputs as a tensor.</summary>
    public static Tensor<T> Rows<T>(int columns, params double[] values) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(new Shape(values.Length / columns, columns));
        for (var i = 0; i < values.Length; i++)
        {
            t[i] = T.CreateChecked(values[i]);
        }
        return t;
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backprop-model-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
