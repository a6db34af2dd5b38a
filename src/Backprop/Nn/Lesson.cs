using System.Numerics;

namespace Backprop.Nn;

/// <summary>
/// The lesson's network (reference/lesson.md): 1 input, 2 SoftPlus hidden nodes, 1 output, with
/// parameters named w1 b1 w2 b2 w3 w4 b3 and the lesson's starting values, and its three stages.
/// </summary>
public static class Lesson
{
    /// <summary>The parameter names in the lesson's order.</summary>
    public static IReadOnlyList<string> ParameterNames { get; } = ["w1", "b1", "w2", "b2", "w3", "w4", "b3"];

    /// <summary>The lesson's starting values: weights drawn from N(0, 1), biases 0.</summary>
    public static IReadOnlyDictionary<string, double> StartingValues { get; } = new Dictionary<string, double>
    {
        ["w1"] = 2.74,
        ["b1"] = 0,
        ["w2"] = -1.13,
        ["b2"] = 0,
        ["w3"] = 0.36,
        ["w4"] = 0.63,
        ["b3"] = 0,
    };

    /// <summary>The lesson's layer sizes: 1 input, 2 hidden, 1 output.</summary>
    public static IReadOnlyList<int> LayerSizes { get; } = [1, 2, 1];

    /// <summary>The lesson's learning rate.</summary>
    public const double LearningRate = 0.1;

    /// <summary>The lesson's stopping threshold on every step size.</summary>
    public const double MinStepSize = 0.001;

    /// <summary>The lesson's cap on the number of steps.</summary>
    public const int MaxSteps = 1000;

    /// <summary>
    /// Builds the lesson's network: Dense(1 → 2, SoftPlus) then Dense(2 → 1, Identity), with the
    /// lesson's parameter names. Its values are the lesson's starting values.
    /// </summary>
    public static Sequential<T> CreateNetwork<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Sequential<T>.Mlp(LayerSizes, Activation.SoftPlus);
        Name(network);
        SetValues(network, StartingValues);
        return network;
    }

    /// <summary>Gives a 1-2-1 network the lesson's parameter names (w1 b1 w2 b2 w3 w4 b3).</summary>
    public static void Name<T>(Sequential<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!IsLessonShaped(network))
        {
            throw new BackpropException("Only a network of layers 1,2,1 has the lesson's parameter names.");
        }
        var hidden = (Dense<T>)network.Layers[0];
        var output = (Dense<T>)network.Layers[1];
        hidden.Weight.SetElementNames("w1", "w2");
        hidden.Bias.SetElementNames("b1", "b2");
        output.Weight.SetElementNames("w3", "w4");
        output.Bias.SetElementNames("b3");
    }

    /// <summary>True for two Dense layers of sizes 1 → 2 → 1 (any activations).</summary>
    public static bool IsLessonShaped<T>(Module<T> network) where T : unmanaged, IFloatingPointIeee754<T>
        => network is Sequential<T> { Layers: [Dense<T> { Inputs: 1, Outputs: 2 }, Dense<T> { Inputs: 2, Outputs: 1 }] };

    /// <summary>Sets numbers by name, e.g. the lesson's starting values.</summary>
    public static void SetValues<T>(Module<T> network, IReadOnlyDictionary<string, double> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(values);
        foreach (var (name, value) in values)
        {
            var element = network.Element(name);
            element.Parameter.Data[element.Index] = T.CreateChecked(value);
        }
    }

    /// <summary>
    /// One stage of the lesson series: its starting values and the parameters it trains.
    /// Stage 1 trains b3 alone (the rest fixed at optimised values); stage 2 trains w3, w4, b3;
    /// stage 3 trains all seven from the lesson's starting values.
    /// </summary>
    public static LessonStage Stage(int stage) => stage switch
    {
        1 => new LessonStage(1, new Dictionary<string, double>
        {
            ["w1"] = 3.34,
            ["b1"] = -1.43,
            ["w2"] = -3.53,
            ["b2"] = 0.57,
            ["w3"] = -1.22,
            ["w4"] = -2.30,
            ["b3"] = 0,
        }, ["b3"]),
        2 => new LessonStage(2, new Dictionary<string, double>
        {
            ["w1"] = 3.34,
            ["b1"] = -1.43,
            ["w2"] = -3.53,
            ["b2"] = 0.57,
            ["w3"] = 0.36,
            ["w4"] = 0.63,
            ["b3"] = 0,
        }, ["w3", "w4", "b3"]),
        3 => new LessonStage(3, StartingValues, ParameterNames),
        _ => throw new BackpropException($"The lesson has stages 1, 2 and 3; there is no stage {stage}."),
    };
}

/// <summary>A stage of the lesson series: starting values and the parameters it trains.</summary>
/// <param name="Number">1, 2 or 3.</param>
/// <param name="StartingValues">The value of all seven parameters at the start.</param>
/// <param name="Trained">The parameters this stage trains; the others are held fixed.</param>
public sealed record LessonStage(int Number, IReadOnlyDictionary<string, double> StartingValues, IReadOnlyList<string> Trained);
