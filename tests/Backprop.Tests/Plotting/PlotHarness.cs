using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Plotting;
using Backprop.Training;

namespace Backprop.Tests.Plotting;

/// <summary>Training runs recorded for pictures and reports, and a temporary folder to write them into.</summary>
internal static class PlotHarness
{
    /// <summary>The lesson's run (or its first <paramref name="maxSteps"/> steps), recorded.</summary>
    public static (TrainingRecord Record, Sequential<double> Network) LessonRecord(int maxSteps = Lesson.MaxSteps, double? minStepSize = Lesson.MinStepSize)
    {
        var network = Lesson.CreateNetwork<double>();
        var data = Datasets.Dosage;
        var recorder = new SnapshotRecorder<double>(network, TrainingRecord.Probe(data, isClassification: false));
        new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), Lesson.LearningRate))
            .Fit(data.InputTensor<double>(), data.TargetTensor<double>(), new TrainingOptions { MaxSteps = maxSteps, MinStepSize = minStepSize }, [recorder]);
        return (new TrainingRecord(data, recorder, "SSR", false, network.Describe(), [new("learning rate", "0.1")]), network);
    }

    /// <summary>A network of two inputs on a made-up plane, y = x0 - 2 x1, recorded: its fit is predicted against observed.</summary>
    public static TrainingRecord TwoInputRecord(int maxSteps = 200)
    {
        var inputs = new List<double>();
        var targets = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            double a = (i % 8) / 7.0, b = (i / 8) / 4.0;
            inputs.AddRange([a, b]);
            targets.Add(a - (2 * b));
        }
        var data = new Dataset("plane.csv", [.. inputs], [.. targets], ["left", "right"], ["height"]);
        var network = Sequential<double>.Mlp([2, 4, 1], Activation.Tanh);
        new StandardNormalInitializer(seed: 3).Initialize(network);
        var recorder = new SnapshotRecorder<double>(network, TrainingRecord.Probe(data, isClassification: false));
        new Trainer<double>(network, new MeanSquaredError(), new Adam<double>(network.Parameters(), 0.05))
            .Fit(data.InputTensor<double>(), data.TargetTensor<double>(), new TrainingOptions { MaxSteps = maxSteps, MinStepSize = null }, [recorder]);
        return new TrainingRecord(data, recorder, "MSE", false, network.Describe(), []);
    }

    /// <summary>
    /// A classifier of 6×6 images of three made-up classes (a horizontal bar, a vertical bar, a
    /// diagonal, each at a random place with noise) trained for a few epochs with validation, scored
    /// on held-out images: everything the classification pictures and the report draw.
    /// </summary>
    public static TrainingRecord ImageClassifierRecord(int epochs = 4)
    {
        var train = BarImages("bars", 300, seed: 1);
        var (fit, validation) = train.Split(60, seed: 2);
        var test = BarImages("bars test", 120, seed: 3);
        var network = Sequential<double>.Mlp([36, 12, 3], Activation.Relu);
        new HeInitializer(seed: 4).Initialize(network);
        var history = new EpochHistoryMonitor<double>(validation);
        var recorder = new SnapshotRecorder<double>(network, TrainingRecord.Probe(fit, isClassification: true));
        var loss = new CrossEntropy();
        var trainer = new Trainer<double>(network, loss, new Adam<double>(network.Parameters(), 0.01));
        trainer.Fit(fit.InputTensor<double>(), fit.TargetTensor<double>(), new TrainingOptions { Epochs = epochs, BatchSize = 16, MaxSteps = int.MaxValue, MinStepSize = null }, [history, recorder]);
        var confusion = new ConfusionMatrix(test.ClassNames!);
        var predicted = new int[test.Count];
        var confidence = new double[test.Count];
        trainer.Evaluator.Evaluate(test, confusion, predicted, confidence);
        var classification = new ClassificationRecord(history.History, confusion, "test")
        {
            Misclassified = Misclassification.MostConfident(test, predicted, confidence, ClassificationPictures.MaxImages),
            Images = test,
            ImageHeight = 6,
            ImageWidth = 6,
        };
        return new TrainingRecord(fit, recorder, "cross-entropy", true, network.Describe(), []) { Classification = classification };
    }

    /// <summary><paramref name="count"/> seeded 6×6 images (values 0…1) of a horizontal bar, a vertical bar or a diagonal.</summary>
    public static Dataset BarImages(string name, int count, ulong seed)
    {
        var rng = new Rng(seed);
        var inputs = new double[count * 36];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 3;
            var at = (int)(rng.NextDouble() * 6);
            var image = inputs.AsSpan(i * 36, 36);
            for (var p = 0; p < 36; p++)
            {
                var (y, x) = (p / 6, p % 6);
                var on = label switch { 0 => y == at, 1 => x == at, _ => x == y };
                image[p] = Math.Clamp((on ? 0.8 : 0.1) + ((rng.NextDouble() - 0.5) * 0.9), 0, 1);
            }
            labels[i] = label;
        }
        return Dataset.ForClassification(name, inputs, labels, [.. Enumerable.Range(0, 36).Select(p => $"pixel{p}")], "shape", ["horizontal", "vertical", "diagonal"]);
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "backprop-plot-tests-" + Guid.NewGuid().ToString("N"));

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
