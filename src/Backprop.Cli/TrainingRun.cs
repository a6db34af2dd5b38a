using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>A network built from <see cref="TrainSettings"/>, ready to train, with its starting values kept.</summary>
internal sealed class TrainingRun
{
    private TrainingRun(TrainSettings settings, Sequential<double> network)
    {
        Settings = settings;
        Network = network;
        StartValues = [.. network.Elements().Select(e => e.Value)];
        Inputs = settings.Data.InputTensor<double>();
        Targets = settings.Data.TargetTensor<double>();
    }

    public TrainSettings Settings { get; }

    public Sequential<double> Network { get; }

    /// <summary>Every number's value before training, in <see cref="Module{T}.Elements"/> order.</summary>
    public IReadOnlyList<double> StartValues { get; }

    public Tensor<double> Inputs { get; }

    public Tensor<double> Targets { get; }

    /// <summary>True when this is the lesson's 1-2-1 network (its parameters have the lesson's names).</summary>
    public bool IsLessonNetwork => Lesson.IsLessonShaped(Network);

    public static TrainingRun Start(TrainSettings settings)
    {
        // The output layer is linear: regression outputs, or logits for softmax cross-entropy.
        var network = Sequential<double>.Mlp(settings.Layers, settings.Activation, Activation.Identity);
        if (Lesson.IsLessonShaped(network))
        {
            Lesson.Name(network);
        }
        if (settings.Stage is { } stage)
        {
            var s = Lesson.Stage(stage);
            Lesson.SetValues(network, s.StartingValues);
            network.TrainOnly(s.Trained);
        }
        else if (settings.Init == "lesson")
        {
            Lesson.SetValues(network, Lesson.StartingValues);
        }
        else
        {
            Initializer.Create(settings.Init, settings.Seed).Initialize(network);
        }
        if (settings.Only is { } names)
        {
            network.TrainOnly(names);
        }
        return new TrainingRun(settings, network);
    }

    /// <summary>Trains with the settings' optimizer, learning rate and stopping rules (or <paramref name="options"/>), calling <paramref name="monitors"/>.</summary>
    public TrainingResult Train(TrainingOptions? options = null, IReadOnlyList<TrainingMonitor<double>>? monitors = null)
    {
        var optimizer = Optimizer<double>.Create(Settings.Optimizer, Network.Parameters(), Settings.LearningRate);
        var trainer = new Trainer<double>(Network, Settings.Loss, optimizer);
        return trainer.Fit(Inputs, Targets, options ?? Settings.Options, monitors ?? [], Resume);
    }

    /// <summary>The state of an interrupted run to continue from (<c>--resume</c>), or null.</summary>
    public TrainingState<double>? Resume { get; set; }

    /// <summary>
    /// Every number with its starting value, in the lesson's order (w1 b1 w2 b2 w3 w4 b3) for the
    /// lesson's network and in storage order otherwise.
    /// </summary>
    public IReadOnlyList<(ParameterElement<double> Element, double Start)> Parameters()
    {
        var list = Network.Elements().Select((e, i) => (e, StartValues[i]));
        return IsLessonNetwork ? [.. list.OrderBy(p => Lesson.ParameterNames.ToList().IndexOf(p.e.Name))] : [.. list];
    }

    /// <summary>The trained network's outputs for every row of the data.</summary>
    public Tensor<double> Predict() => Network.Predict(Inputs);
}
