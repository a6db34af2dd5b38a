using System.Diagnostics;
using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>What a classification run measured, for the text and JSON reports.</summary>
internal sealed record ClassificationOutcome(
    TrainSettings Settings,
    string Network,
    int ParameterCount,
    TrainingResult Result,
    IReadOnlyList<EpochRecord> Epochs,
    Evaluation Train,
    Evaluation? Test,
    ConfusionMatrix Confusion,
    string ConfusionSource,
    int[] Predictions,
    long PeakWorkingSetBytes);

/// <summary>
/// <c>backprop train</c> for classification (cross-entropy): mini-batches over epochs, per-epoch
/// progress with validation, then the test set's accuracy and confusion matrix.
/// </summary>
internal static class ClassificationRun
{
    /// <summary>Starting values for a classification network: He for ReLU layers, Xavier otherwise.</summary>
    public static string DefaultInit(Loss loss, Activation activation)
        => !loss.IsClassification ? "normal" : activation == Activation.Relu ? "he" : "xavier";

    public static int Run(TrainSettings settings, TextWriter stdout)
    {
        var outcome = settings.Float ? Train<float>(settings, stdout) : Train<double>(settings, stdout);
        if (settings.Json)
        {
            ClassificationReport.WriteJson(stdout, outcome);
        }
        else
        {
            ClassificationReport.WriteText(stdout, outcome);
        }
        return BackpropCli.Success;
    }

    private static ClassificationOutcome Train<T>(TrainSettings settings, TextWriter stdout) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (train, validation, test, _) = settings.Splits;
        var network = Sequential<T>.Mlp(settings.Layers, settings.Activation, Activation.Identity);
        Initializer.Create(settings.Init, settings.Seed).Initialize(network);
        if (settings.Only is { } names)
        {
            network.TrainOnly(names);
        }
        if (!settings.Json)
        {
            ClassificationReport.WriteHeader(stdout, settings, network.Describe(), network.ParameterCount(), typeof(T) == typeof(float) ? "float" : "double");
        }
        var optimizer = Optimizer<T>.Create(settings.Optimizer, network.Parameters(), settings.LearningRate);
        var trainer = new Trainer<T>(network, settings.Loss, optimizer);
        var history = new EpochHistoryMonitor<T>(validation);
        if (!settings.Json)
        {
            history.EpochCompleted += e => ClassificationReport.WriteEpoch(stdout, e, settings.Options.Epochs);
        }
        TrainingResult result;
        {
            // The training tensors live only while training: the datasets keep their compact form.
            var x = train.InputTensor<T>();
            var y = train.TargetTensor<T>();
            result = trainer.Fit(x, y, settings.Options, [history]);
        }
        var evaluator = new Evaluator<T>(network, settings.Loss);
        var scored = test ?? validation ?? train;
        var confusion = new ConfusionMatrix(train.ClassNames!);
        var trainScore = evaluator.Evaluate(train, scored == train ? confusion : null);
        Evaluation? testScore = test is null ? null : evaluator.Evaluate(test, confusion);
        if (test is null && validation is not null)
        {
            _ = evaluator.Evaluate(validation, confusion);
        }
        return new ClassificationOutcome(
            settings, network.Describe(), network.ParameterCount(), result, history.History, trainScore, testScore, confusion,
            test is not null ? "test" : validation is not null ? "validation" : "training",
            Predict(network, scored), PeakWorkingSet());
    }

    // The predicted class of every row of the scored data (the test set when there is one).
    private static int[] Predict<T>(Sequential<T> network, Dataset data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Chunk = 1024;
        var predictions = new int[data.Count];
        var x = new Tensors.Tensor<T>(new Tensors.Shape(Math.Min(Chunk, data.Count), data.InputCount));
        for (var start = 0; start < data.Count; start += Chunk)
        {
            var count = Math.Min(Chunk, data.Count - start);
            if (count != x.Shape.Rows)
            {
                x = new Tensors.Tensor<T>(new Tensors.Shape(count, data.InputCount));
            }
            data.CopyInputs(start, count, x.Data);
            var outputs = network.Predict(x);
            var classes = outputs.Shape.Columns;
            for (var r = 0; r < count; r++)
            {
                predictions[start + r] = ConfusionMatrix.ArgMax<T>(outputs.Data.Slice(r * classes, classes));
            }
        }
        return predictions;
    }

    private static long PeakWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
