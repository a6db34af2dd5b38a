using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// A piece of a network: a function of its input tensor and of its parameters.
/// </summary>
/// <remarks>
/// <para>
/// A module of your own overrides <see cref="Forward"/> (composing <see cref="TensorOps"/> and other
/// modules) and <see cref="Children"/>; its parameters, buffers, generators and training mode then
/// come from its children by default.
/// </para>
/// <para>
/// A module is training (<see cref="Train"/>, the default) or evaluating (<see cref="Eval"/>), as in
/// PyTorch: Dropout drops only in training, BatchNorm uses the batch's statistics in training and its
/// running statistics in evaluation. The mode is read when the forward pass is computed, so a graph
/// recorded in one mode replays in that mode: <c>Trainer</c> records and replays in training mode,
/// <c>Evaluator</c>, <see cref="Predict"/> and <c>Model.Predict</c> in evaluation mode.
/// </para>
/// </remarks>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Computes the output for a batch of inputs (rows first: [rows, features], [rows, channels, height, width], …).</summary>
    public abstract Tensor<T> Forward(Tensor<T> input);

    /// <summary>
    /// Computes the output in evaluation mode without recording anything for back-propagation
    /// (evaluation, prediction); the module's mode is restored afterwards.
    /// </summary>
    public Tensor<T> Predict(Tensor<T> input)
    {
        using var mode = InMode(training: false);
        using var scope = Autograd.GradMode.NoGrad();
        return Forward(input);
    }

    /// <summary>True while the module is training (the default), false after <see cref="Eval"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Puts this module and every module inside it in training mode (<paramref name="training"/> true) or evaluation mode.</summary>
    /// <returns>This module.</returns>
    public Module<T> Train(bool training = true)
    {
        IsTraining = training;
        foreach (var child in Children())
        {
            child.Train(training);
        }
        return this;
    }

    /// <summary>Puts this module and every module inside it in evaluation mode: <c>Train(false)</c>.</summary>
    /// <returns>This module.</returns>
    public Module<T> Eval() => Train(false);

    /// <summary>
    /// Switches the whole module to <paramref name="training"/> mode if it is not in it, until the returned scope is disposed.
    /// </summary>
    internal ModeScope<T> InMode(bool training)
    {
        if (IsTraining == training)
        {
            return default;
        }
        Train(training);
        return new ModeScope<T>(this, !training);
    }

    /// <summary>The parameters of this module and of the modules inside it, in a stable order.</summary>
    /// <remarks>By default, the parameters of <see cref="Children"/>, in order.</remarks>
    public virtual IEnumerable<Parameter<T>> Parameters() => Children().SelectMany(c => c.Parameters());

    /// <summary>
    /// Named tensors that are part of the module's state but not trained, such as BatchNorm's running
    /// mean and variance (<c>layer1.runningMean</c>), of this module and the modules inside it, in a stable order.
    /// Checkpoints and model files carry them beside the parameters.
    /// </summary>
    /// <remarks>By default, the buffers of <see cref="Children"/>, in order.</remarks>
    public virtual IEnumerable<Tensor<T>> Buffers() => Children().SelectMany(c => c.Buffers());

    /// <summary>
    /// The random generators the forward pass draws from (Dropout's masks), named
    /// <c>layer2.generator</c>, of this module and the modules inside it, in a stable order. Checkpoints
    /// save their states so that a resumed run draws what the uninterrupted run would have drawn.
    /// </summary>
    /// <remarks>By default, the generators of <see cref="Children"/>, in order.</remarks>
    public virtual IEnumerable<KeyValuePair<string, Rng>> Generators() => Children().SelectMany(c => c.Generators());

    /// <summary>The modules directly inside this one.</summary>
    public virtual IEnumerable<Module<T>> Children() => [];

    /// <summary>
    /// The registered kind this module is (<see cref="DenseKind"/>, an <see cref="Activation"/>, …),
    /// through which model files, ONNX export and the summary handle it; null for a container or a
    /// module of your own that no kind describes.
    /// </summary>
    public virtual LayerKind? Kind => null;

    /// <summary>A short description, e.g. <c>Dense(1 → 2, SoftPlus)</c>.</summary>
    public abstract string Describe();

    /// <summary>Names this module's parameters with <paramref name="prefix"/> (e.g. <c>layer0</c>).</summary>
    /// <remarks>By default, the i-th of <see cref="Children"/> is named <c>{prefix}.{i}</c> (<c>layer2.0.weight</c>).</remarks>
    public virtual void SetName(string prefix)
    {
        var i = 0;
        foreach (var child in Children())
        {
            child.SetName($"{prefix}.{i++}");
        }
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

/// <summary>Restores a module's mode when disposed (see <see cref="Module{T}.InMode"/>); a default scope does nothing.</summary>
internal readonly struct ModeScope<T>(Module<T>? module, bool training) : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Dispose() => module?.Train(training);
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
