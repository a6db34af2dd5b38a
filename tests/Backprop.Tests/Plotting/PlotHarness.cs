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
