using System.Collections.ObjectModel;
using Backprop.Data;
using Backprop.Nn;

namespace Backprop.Scalar;

/// <summary>
/// The lesson's network (1 input, 2 SoftPlus hidden nodes, 1 output) and its sum of squared residuals,
/// built out of <see cref="Value"/>s that carry the lesson's names: w1 … b3, Input_i, x1,i, y1,i, x2,i, y2,i,
/// Predicted_i, Observed_i and SSR.
/// </summary>
/// <remarks>
/// For each data point i (counting from 1):
/// x1,i = Input_i·w1 + b1, y1,i = SoftPlus(x1,i); x2,i = Input_i·w2 + b2, y2,i = SoftPlus(x2,i);
/// Predicted_i = y1,i·w3 + y2,i·w4 + b3; SSR = Σᵢ (Observed_i − Predicted_i)².
/// </remarks>
public sealed class LessonGraph
{
    private LessonGraph(Value ssr, IReadOnlyDictionary<string, Value> parameters, IReadOnlyList<Value> predicted)
    {
        Ssr = ssr;
        Parameters = parameters;
        Predicted = predicted;
    }

    /// <summary>The sum of squared residuals, named <c>SSR</c>: call <see cref="Value.Backward"/> on it.</summary>
    public Value Ssr { get; }

    /// <summary>The seven parameter leaves by name, in the order of <see cref="Lesson.ParameterNames"/>.</summary>
    public IReadOnlyDictionary<string, Value> Parameters { get; }

    /// <summary>Predicted_i for each data point.</summary>
    public IReadOnlyList<Value> Predicted { get; }

    /// <summary>The lesson's network at its starting values on the dosage data.</summary>
    public static LessonGraph Build() => Build(Lesson.StartingValues, Datasets.Dosage.Inputs.ToArray(), Datasets.Dosage.Targets.ToArray());

    /// <summary>Builds the network and its SSR for the given parameter values and data.</summary>
    /// <param name="parameters">A value for each of w1 b1 w2 b2 w3 w4 b3, and nothing else.</param>
    /// <param name="inputs">Input_i for each data point.</param>
    /// <param name="observed">Observed_i for each data point.</param>
    /// <exception cref="ArgumentException">A parameter is missing or unknown, or the data lengths differ.</exception>
    public static LessonGraph Build(
        IReadOnlyDictionary<string, double> parameters, IReadOnlyList<double> inputs, IReadOnlyList<double> observed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(observed);
        foreach (var name in Lesson.ParameterNames)
        {
            if (!parameters.ContainsKey(name))
            {
                throw new ArgumentException($"Parameter '{name}' is missing; the lesson's network needs w1 b1 w2 b2 w3 w4 b3.", nameof(parameters));
            }
        }

        foreach (var name in parameters.Keys)
        {
            if (!Lesson.ParameterNames.Contains(name))
            {
                throw new ArgumentException($"Unknown parameter '{name}'; the lesson's network has w1 b1 w2 b2 w3 w4 b3.", nameof(parameters));
            }
        }

        if (inputs.Count != observed.Count)
        {
            throw new ArgumentException($"{inputs.Count} inputs but {observed.Count} observed values.", nameof(observed));
        }

        var p = new OrderedDictionary<string, Value>();
        foreach (var name in Lesson.ParameterNames)
        {
            p[name] = new Value(parameters[name], name);
        }

        var predicted = new Value[inputs.Count];
        var squaredResiduals = new Value[inputs.Count];
        for (var k = 0; k < inputs.Count; k++)
        {
            var i = k + 1; // the lesson counts data points from 1
            var input = new Value(inputs[k], $"Input_{i}");
            var x1 = (input * p["w1"]).Add(p["b1"], $"x1,{i}");
            var y1 = x1.SoftPlus($"y1,{i}");
            var x2 = (input * p["w2"]).Add(p["b2"], $"x2,{i}");
            var y2 = x2.SoftPlus($"y2,{i}");
            predicted[k] = Value.Sum([y1 * p["w3"], y2 * p["w4"], p["b3"]], $"Predicted_{i}");

            var residual = new Value(observed[k], $"Observed_{i}").Subtract(predicted[k], $"Residual_{i}");
            squaredResiduals[k] = residual.Square($"SquaredResidual_{i}"); // dSSR/dPredicted_i = -2(Observed_i - Predicted_i)
        }

        return new LessonGraph(Value.Sum(squaredResiduals, "SSR"), InOrder(p), predicted);
    }

    private static ReadOnlyDictionary<string, T> InOrder<T>(OrderedDictionary<string, T> dictionary) => new(dictionary);
}
