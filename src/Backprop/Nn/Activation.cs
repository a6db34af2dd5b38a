using System.Numerics;
using Backprop.Tensors;
using Backprop.Tensors.Ops;

namespace Backprop.Nn;

/// <summary>The activation functions a layer can apply to its weighted sums.</summary>
public enum Activation
{
    /// <summary>f(x) = x (regression outputs).</summary>
    Identity,

    /// <summary>f(x) = log(1 + eˣ), the lesson's hidden-node activation.</summary>
    SoftPlus,

    /// <summary>f(x) = max(x, 0).</summary>
    Relu,

    /// <summary>f(x) = 1/(1 + e^−x).</summary>
    Sigmoid,

    /// <summary>f(x) = tanh x.</summary>
    Tanh,
}

/// <summary>Applying and naming activations.</summary>
public static class Activations
{
    /// <summary>Applies <paramref name="activation"/> element-wise.</summary>
    public static Tensor<T> Apply<T>(this Tensor<T> x, Activation activation) where T : unmanaged, IFloatingPointIeee754<T>
        => activation switch
        {
            Activation.Identity => x.Identity(),
            Activation.SoftPlus => x.SoftPlus(),
            Activation.Relu => x.Relu(),
            Activation.Sigmoid => x.Sigmoid(),
            Activation.Tanh => x.Tanh(),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
        };

    /// <summary>f(x·W + b) as one fused operation (a dense layer's forward pass).</summary>
    internal static Tensor<T> Linear<T>(Tensor<T> x, Tensor<T> weight, Tensor<T> bias, Activation activation) where T : unmanaged, IFloatingPointIeee754<T>
        => activation switch
        {
            Activation.Identity => TensorOps.Linear<T, IdentityActivation<T>>(x, weight, bias),
            Activation.SoftPlus => TensorOps.Linear<T, SoftPlusActivation<T>>(x, weight, bias),
            Activation.Relu => TensorOps.Linear<T, ReluActivation<T>>(x, weight, bias),
            Activation.Sigmoid => TensorOps.Linear<T, SigmoidActivation<T>>(x, weight, bias),
            Activation.Tanh => TensorOps.Linear<T, TanhActivation<T>>(x, weight, bias),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
        };

    /// <summary>The activation's usual name: SoftPlus, ReLU, Sigmoid, Tanh, Identity.</summary>
    public static string DisplayName(this Activation activation) => activation switch
    {
        Activation.Relu => "ReLU",
        _ => activation.ToString(),
    };

    /// <summary>Reads an activation name, ignoring case (<c>softplus</c>, <c>relu</c>, …).</summary>
    /// <exception cref="BackpropException">The name is not an activation.</exception>
    public static Activation Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        // NOTE: not Enum.TryParse, which also takes numbers ("1") and comma lists ("softplus,relu" = 1|2 = Sigmoid).
        foreach (var a in Enum.GetValues<Activation>())
        {
            if (string.Equals(a.ToString(), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return a;
            }
        }
        throw new BackpropException($"Unknown activation '{name}'; choose one of softplus, relu, sigmoid, tanh, identity.");
    }
}

/// <summary>A module that applies an activation function element-wise; it has no parameters.</summary>
public sealed class ActivationLayer<T>(Activation activation) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The function applied.</summary>
    public Activation Activation { get; } = activation;

    /// <inheritdoc/>
    public override Tensor<T> Forward(Tensor<T> input) => input.Apply(Activation);

    /// <inheritdoc/>
    public override string Describe() => Activation.DisplayName();
}
