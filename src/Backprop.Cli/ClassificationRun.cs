using System.Diagnostics;
using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
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

    /// <summary>Trains and reports; with <paramref name="modelFile"/>, also saves the model (class names, input standardisation).</summary>
    public static int Run(TrainSettings settings, TextWriter stdout, string? modelFile = null, CheckpointPlan? plan = null, bool quiet = false)
    {
        var outcome = settings.Float ? Train<float>(settings, stdout, modelFile, plan, quiet) : Train<double>(settings, stdout, modelFile, plan, quiet);
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

    private static ClassificationOutcome Train<T>(TrainSettings settings, TextWriter stdout, string? modelFile, CheckpointPlan? plan, bool quiet) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (train, validation, test, _) = settings.Splits;
        var network = Sequential<T>.Mlp(settings.Layers, settings.Activation, Activation.Identity);
        Initializer.Create(settings.Init, settings.Seed).Initialize(network);
        if (settings.Only is { } names)
        {
            network.TrainOnly(names);
        }
        // --quiet: no preamble and no per-epoch lines, only the result (as for regression runs).
        var talk = !settings.Json && !quiet;
        if (talk)
        {
            ClassificationReport.WriteHeader(stdout, settings, network.Describe(), network.ParameterCount(), typeof(T) == typeof(float) ? "float" : "double");
        }
        var optimizer = Optimizer<T>.Create(settings.Optimizer, network.Parameters(), settings.LearningRate);
        var trainer = new Trainer<T>(network, settings.Loss, optimizer);
        var history = new EpochHistoryMonitor<T>(validation);
        if (talk)
        {
            history.EpochCompleted += e => ClassificationReport.WriteEpoch(stdout, e, settings.Options.Epochs);
        }
        TrainingResult result;
        {
            // The training tensors live only while training: the datasets keep their compact form.
            var x = train.InputTensor<T>();
            var y = train.TargetTensor<T>();
            TrainingMonitor<T>[] monitors = plan is null ? [history] : [history, new CheckpointMonitor<T>(plan)];
            result = trainer.Fit(x, y, settings.Options, monitors, plan?.ResumeState<T>());
        }
        if (result.StopReason == StopReason.Interrupted)
        {
            throw new TrainingInterruptedException(plan!.InterruptedLine(result.Steps));
        }
        if (modelFile is not null)
        {
            var standardization = settings.Splits.Standardization;
            new Model<T>(network)
            {
                ClassNames = train.ClassNames,
                Normalization = standardization is null ? null : new InputNormalization(standardization.Means, standardization.Deviations),
                Metadata = ModelMetadata.FromTraining(result, train, settings.Loss, settings.Init == "lesson" ? null : settings.Seed),
            }.Save(modelFile);
        }
        // One pass over each set: the training rows, then the test rows (or the validation rows) for
        // the confusion matrix and the predictions.
        var evaluator = trainer.Evaluator;
        var scored = test ?? validation;
        var confusion = new ConfusionMatrix(train.ClassNames!);
        var predictions = new int[(scored ?? train).Count];
        var trainScore = evaluator.Evaluate(train, scored is null ? confusion : null, scored is null ? predictions : null);
        Evaluation? scoredScore = scored is null ? null : evaluator.Evaluate(scored, confusion, predictions);
        return new ClassificationOutcome(
            settings, network.Describe(), network.ParameterCount(), result, history.History, trainScore, test is null ? null : scoredScore, confusion,
            test is not null ? "test" : validation is not null ? "validation" : "training",
            predictions, PeakWorkingSet());
    }

    private static long PeakWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
