using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// A fully connected layer: output = f(input · W + b), with W [inputs, outputs] and b [outputs].
/// </summary>
/// <remarks>
/// W is stored inputs × outputs, so <c>weight[i,j]</c> connects input i to unit j and the forward
/// pass is one plain matrix product. The product, the bias and the activation are recorded as one
/// operation (forward and derivatives fused). Its parameters are named <c>{name}.weight</c> and <c>{name}.bias</c>.
/// </remarks>
public sealed class Dense<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero-initialised layer; use an <see cref="Initializer"/> to set its weights.</summary>
    public Dense(int inputs, int outputs, Activation activation = Activation.Identity, string name = "dense")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        Inputs = inputs;
        Outputs = outputs;
        Activation = activation;
        Name = name;
        Weight = new Parameter<T>(name + ".weight", new Shape(inputs, outputs));
        Bias = new Parameter<T>(name + ".bias", new Shape(outputs));
    }

    /// <summary>The layer's name (<c>layer0</c>); its parameters are named after it.</summary>
    public string Name { get; private set; }

    /// <summary>Number of inputs (fan-in).</summary>
    public int Inputs { get; }

    /// <summary>Number of units (fan-out).</summary>
    public int Outputs { get; }

    /// <summary>The activation applied to the weighted sums.</summary>
    public Activation Activation { get; }

    /// <summary>The weights, [inputs, outputs].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The biases, [outputs].</summary>
    public Parameter<T> Bias { get; }

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 2 || input.Shape[1] != Inputs)
        {
            throw new BackpropException($"Layer {Name} takes rows of {Inputs} inputs; it was given shape {input.Shape}.");
        }
        return Activations.Linear(input, Weight, Bias, Activation);
    }

    /// <inheritdoc/>
    public override IEnumerable<Parameter<T>> Parameters() => [Weight, Bias];

    /// <inheritdoc/>
    public override void SetName(string prefix)
    {
        Name = prefix;
        Weight.Rename(prefix + ".weight");
        Bias.Rename(prefix + ".bias");
    }

    /// <inheritdoc/>
    public override string Describe() => $"Dense({Inputs} → {Outputs}, {Activation.DisplayName()})";
}
