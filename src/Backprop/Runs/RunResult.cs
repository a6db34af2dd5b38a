using System.Numerics;
using Backprop.Nn;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Runs;

/// <summary>One trained number: its name, value before and after training, and whether it was trained.</summary>
/// <param name="Name">e.g. <c>w1</c> or <c>layer0.weight[0,1]</c>.</param>
/// <param name="Start">The value before training.</param>
/// <param name="Final">The value after training.</param>
/// <param name="Trained">False when the number was held fixed (<see cref="NetworkRecipe.Only"/>, <see cref="NetworkRecipe.Stage"/>).</param>
public readonly record struct ParameterValue(string Name, double Start, double Final, bool Trained);

/// <summary>
/// What a <see cref="TrainingRun"/> measured: the training result, the history of every epoch, the
/// scores on the training, validation and test rows, and for classification the confusion matrix
/// and each scored row's predicted class. <see cref="RunResult{T}"/> also holds the trained network.
/// </summary>
public abstract class RunResult
{
    private protected RunResult(RunSpec spec, TrainingResult result, IReadOnlyList<EpochRecord> epochs, string? growth)
    {
        DivergenceMessage = result.StopReason == StopReason.Diverged ? result.StopMessage : growth;
        Spec = spec;
        Result = result;
        Epochs = epochs;
    }

    /// <summary>What was run.</summary>
    public RunSpec Spec { get; }

    /// <summary>Steps, stop reason, starting and final loss on the training rows, and every step's loss.</summary>
    public TrainingResult Result { get; }

    /// <summary>Every completed epoch: training loss (and accuracy), validation loss (and accuracy), time.</summary>
    public IReadOnlyList<EpochRecord> Epochs { get; }

    /// <summary>Whether the run was interrupted (<see cref="StopReason.Interrupted"/>): nothing is scored then.</summary>
    public bool Interrupted => Result.StopReason == StopReason.Interrupted;

    /// <summary>The network in words, e.g. <c>Dense(1 → 2, SoftPlus) → Dense(2 → 1, Identity)</c>.</summary>
    public abstract string NetworkDescription { get; }

    /// <summary>Numbers in the network.</summary>
    public abstract int ParameterCount { get; }

    /// <summary>The trained network's summary: each layer with its output shape and parameter count, and the totals.</summary>
    public abstract ModelSummary Summary { get; }

    /// <summary>The score on all training rows after training (null when interrupted).</summary>
    public Evaluation? Train { get; private protected set; }

    /// <summary>The score on the validation rows after training, or null.</summary>
    public Evaluation? Validation { get; private protected set; }

    /// <summary>The score on the test rows, or null.</summary>
    public Evaluation? Test { get; private protected set; }

    /// <summary>For classification: the confusion matrix of <see cref="ConfusionSource"/>'s rows; otherwise null.</summary>
    public ConfusionMatrix? Confusion { get; private protected set; }

    /// <summary>Which rows <see cref="Confusion"/> and <see cref="PredictedClasses"/> cover: <c>test</c>, <c>validation</c> or <c>training</c>.</summary>
    public string? ConfusionSource { get; private protected set; }

    /// <summary>For classification: each row of <see cref="ConfusionSource"/>'s predicted class; otherwise null.</summary>
    public IReadOnlyList<int>? PredictedClasses { get; private protected set; }

    /// <summary>For classification: each row of <see cref="ConfusionSource"/>'s probability (softmax) for its predicted class; otherwise null.</summary>
    public IReadOnlyList<double>? Confidences { get; private protected set; }

    /// <summary>The rows <see cref="ConfusionSource"/> names: the test rows, else the validation rows, else the training rows.</summary>
    public Data.Dataset? ScoredData { get; private protected set; }

    /// <summary>
    /// Whether the run diverged: a loss or gradient became NaN or infinite (<see cref="StopReason.Diverged"/>),
    /// or the loss grew by orders of magnitude (<see cref="RunSpec.DivergenceFactor"/>).
    /// </summary>
    public bool Diverged => DivergenceMessage is not null;

    /// <summary>How the run diverged, in words; null when it did not.</summary>
    public string? DivergenceMessage { get; }

    /// <summary>
    /// Every number with its starting and final value, in the lesson's order (w1 b1 w2 b2 w3 w4 b3)
    /// for the lesson's network and in storage order otherwise.
    /// </summary>
    public abstract IReadOnlyList<ParameterValue> Parameters();

    /// <summary>The trained network's outputs for every row of <paramref name="data"/> ([rows × outputs], row-major), as doubles.</summary>
    public abstract double[] Predict(Data.Dataset data);

    /// <summary>The trained model, with its input normalisation, class names and metadata, as model-file bytes (<see cref="ModelFile"/>).</summary>
    public abstract byte[] ToModelBytes();
}

/// <summary>A <see cref="RunResult"/> with the trained network and trainer in <typeparamref name="T"/>.</summary>
public sealed class RunResult<T> : RunResult where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IReadOnlyList<T> startValues;

    internal RunResult(RunSpec spec, Sequential<T> network, Trainer<T> trainer, IReadOnlyList<T> startValues, TrainingResult result, IReadOnlyList<EpochRecord> epochs, string? growth)
        : base(spec, result, epochs, growth)
    {
        Network = network;
        Trainer = trainer;
        this.startValues = startValues;
    }

    /// <summary>The trained network.</summary>
    public Sequential<T> Network { get; }

    /// <summary>The trainer (its optimizer state, its evaluator).</summary>
    public Trainer<T> Trainer { get; }

    /// <inheritdoc/>
    public override string NetworkDescription => Network.Describe();

    /// <inheritdoc/>
    public override int ParameterCount => Network.ParameterCount();

    /// <inheritdoc/>
    public override ModelSummary Summary => ModelSummary.Of(Network, Spec.Network.InputShape);

    internal void SetScores(Evaluation? train, Evaluation? validation, Evaluation? test, ConfusionMatrix? confusion, string? source, int[]? predicted, double[]? confidences, Data.Dataset scored)
    {
        Confidences = confidences;
        ScoredData = scored;
        Train = train;
        Validation = validation;
        Test = test;
        Confusion = confusion;
        ConfusionSource = source;
        PredictedClasses = predicted;
    }

    /// <summary>The trained model: the network with the run's input normalisation, class names and where it came from.</summary>
    public Model<T> Model => new(Network, Spec.Network.InputShape)
    {
        ClassNames = Spec.Data.Train.ClassNames,
        Normalization = Spec.Data.Normalization,
        Metadata = ModelMetadata.FromTraining(Result, Spec.Data.Train, Spec.Loss, Spec.Network.IsSeeded ? Spec.Network.Seed : null),
    };

    /// <inheritdoc/>
    public override byte[] ToModelBytes() => ModelFile.ToBytes(Model);

    /// <inheritdoc/>
    public override IReadOnlyList<ParameterValue> Parameters()
    {
        var list = Network.Elements().Select((e, i) => new ParameterValue(e.Name, double.CreateChecked(startValues[i]), double.CreateChecked(e.Value), e.IsTrainable));
        return Lesson.IsLessonShaped(Network) ? [.. list.OrderBy(p => Lesson.ParameterNames.ToList().IndexOf(p.Name))] : [.. list];
    }

    private const int PredictionChunkRows = 8192;

    /// <inheritdoc/>
    public override double[] Predict(Data.Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        // In chunks of rows: a copy of a chunk's inputs and its forward pass, never of the whole data
        // set (a 100 MB CSV in one forward pass would hold every layer's outputs for a million rows).
        double[]? values = null;
        for (var start = 0; start < data.Count; start += PredictionChunkRows)
        {
            var count = Math.Min(PredictionChunkRows, data.Count - start);
            var outputs = Network.Predict(Spec.Network.AsExamples(data.InputRows<T>(start, count)));
            var width = outputs.Length / count;
            values ??= new double[(long)data.Count * width];
            for (var i = 0; i < outputs.Length; i++)
            {
                values[((long)start * width) + i] = double.CreateChecked(outputs.Data[i]);
            }
        }
        return values ?? [];
    }
}
