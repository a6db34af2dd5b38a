using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// A piece of a network: a function of its input tensor and of its parameters.
/// </summary>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Computes the output for a batch of inputs [rows, features].</summary>
    public abstract Tensor<T> Forward(Tensor<T> input);

    /// <summary>Computes the output without recording anything for back-propagation (evaluation, prediction).</summary>
    public Tensor<T> Predict(Tensor<T> input)
    {
        using var scope = Autograd.GradMode.NoGrad();
        return Forward(input);
    }

    /// <summary>The parameters of this module and of the modules inside it, in a stable order.</summary>
    public virtual IEnumerable<Parameter<T>> Parameters() => [];

    /// <summary>The modules directly inside this one.</summary>
    public virtual IEnumerable<Module<T>> Children() => [];

    /// <summary>
    /// The registered kind this module is (<see cref="DenseKind"/>, an <see cref="Activation"/>, …),
    /// through which model files, ONNX export and the summary handle it; null for a container or a
    /// module of your own that no kind describes.
    /// </summary>
    public virtual LayerKind? Kind => null;

    /// <summary>
    /// State that is not trained but is part of the model (e.g. batch norm's running statistics), each
    /// tensor named like a parameter (<c>layer1.runningMean</c>), in a stable order; this module's and
    /// its children's. Model files and checkpoints save them after the parameters.
    /// </summary>
    public virtual IEnumerable<Tensor<T>> Buffers() => Children().SelectMany(c => c.Buffers());

    /// <summary>A short description, e.g. <c>Dense(1 → 2, SoftPlus)</c>.</summary>
    public abstract string Describe();

    /// <summary>Names this module's parameters with <paramref name="prefix"/> (e.g. <c>layer0</c>).</summary>
    public virtual void SetName(string prefix)
    {
    }

    /// <summary>Sets the gradient of every parameter to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.ZeroGrad();
        }
    }

    /// <summary>Total count of numbers in the parameters.</summary>
    public int ParameterCount() => Parameters().Sum(p => p.Length);

    /// <summary>Every number of every parameter with its name, in order.</summary>
    public IEnumerable<ParameterElement<T>> Elements()
    {
        foreach (var p in Parameters())
        {
            for (var i = 0; i < p.Length; i++)
            {
                yield return new ParameterElement<T>(p, i);
            }
        }
    }

    /// <summary>Finds a number by its name (<c>w1</c>, <c>layer0.bias[1]</c>).</summary>
    /// <exception cref="BackpropException">No number has that name.</exception>
    public ParameterElement<T> Element(string name)
    {
        foreach (var e in Elements())
        {
            if (e.Name == name)
            {
                return e;
            }
        }
        var names = Elements().Select(e => e.Name).ToList();
        var shown = string.Join(", ", names.Take(10)) + (names.Count > 10 ? ", …" : "");
        throw new BackpropException($"The network has no parameter named '{name}' (it has {shown}).");
    }

    /// <summary>Trains only the named numbers; every other number is held fixed.</summary>
    public void TrainOnly(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var chosen = names.Select(Element).ToList();
        foreach (var p in Parameters())
        {
            p.SetTrainable(false);
        }
        foreach (var e in chosen)
        {
            e.Parameter.SetTrainable(e.Index, true);
        }
    }
}

/// <summary>One number of a parameter: the parameter and its index in storage order.</summary>
public readonly record struct ParameterElement<T>(Parameter<T> Parameter, int Index) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The number's name.</summary>
    public string Name => Parameter.ElementNames[Index];

    /// <summary>The number's current value.</summary>
    public T Value
    {
        get => Parameter.Data[Index];
        set => Parameter.Data[Index] = value;
    }

    /// <summary>The number's gradient (0 before any backward pass).</summary>
    public T Gradient => Parameter.Grad is { } g ? g[Index] : T.Zero;

    /// <summary>Whether the number is trained.</summary>
    public bool IsTrainable => Parameter.Trainable[Index];
}
