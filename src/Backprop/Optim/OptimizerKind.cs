using System.Numerics;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>The update rules Backprop offers, by type rather than by name.</summary>
public enum OptimizerKind
{
    /// <summary>Plain gradient descent: new = old − learning rate × derivative (<see cref="GradientDescent{T}"/>).</summary>
    GradientDescent,

    /// <summary>Gradient descent with momentum (<see cref="Momentum{T}"/>).</summary>
    Momentum,

    /// <summary>Adam: per-number steps from running means of the gradient and its square (<see cref="Adam{T}"/>).</summary>
    Adam,
}

/// <summary>Names and construction of <see cref="OptimizerKind"/>: one place for how each is written and built.</summary>
public static class OptimizerKinds
{
    /// <summary>The rule in words, as reports print it: "gradient descent", "momentum", "Adam".</summary>
    public static string DisplayName(this OptimizerKind kind) => kind switch
    {
        OptimizerKind.GradientDescent => "gradient descent",
        OptimizerKind.Momentum => "momentum",
        OptimizerKind.Adam => "Adam",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer."),
    };

    /// <summary>The rule's name on the command line and in JSON: <c>gd</c>, <c>momentum</c>, <c>adam</c>.</summary>
    public static string CommandName(this OptimizerKind kind) => kind switch
    {
        OptimizerKind.GradientDescent => "gd",
        OptimizerKind.Momentum => "momentum",
        OptimizerKind.Adam => "adam",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer."),
    };

    /// <summary>Reads a name: <c>gd</c> (also <c>sgd</c>, <c>gradient-descent</c>), <c>momentum</c>, <c>adam</c>, in any case.</summary>
    /// <exception cref="BackpropException">The name is unknown.</exception>
    public static OptimizerKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "GD" or "SGD" or "GRADIENT-DESCENT" => OptimizerKind.GradientDescent,
            "MOMENTUM" => OptimizerKind.Momentum,
            "ADAM" => OptimizerKind.Adam,
            _ => throw new BackpropException($"Unknown optimizer '{name}'; choose one of gd, momentum, adam."),
        };
    }

    /// <summary>A new optimizer of this kind over <paramref name="parameters"/>.</summary>
    public static Optimizer<T> Create<T>(this OptimizerKind kind, IEnumerable<Parameter<T>> parameters, double learningRate) where T : unmanaged, IFloatingPointIeee754<T>
        => kind switch
        {
            OptimizerKind.GradientDescent => new GradientDescent<T>(parameters, learningRate),
            OptimizerKind.Momentum => new Momentum<T>(parameters, learningRate),
            OptimizerKind.Adam => new Adam<T>(parameters, learningRate),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer."),
        };
}
