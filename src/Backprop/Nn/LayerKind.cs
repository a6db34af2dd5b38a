using System.Numerics;
using Backprop.Serialization;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// Everything about one kind of layer, in one place: its name in model files and in <c>--net</c>, how
/// its settings (<see cref="LayerFields"/>) are read from a <c>--net</c> item, its output shape and
/// its arrays for a given input shape, how it builds its module and initialises its parameters, and
/// its ONNX nodes. Model files, the ONNX exporter, the model summary, <c>--net</c> and the tests find
/// kinds through <see cref="LayerRegistry"/>, never through switches.
/// </summary>
/// <remarks>
/// Shapes here are one example's shape, without the batch dimension: <c>[features]</c> for rows of
/// numbers, <c>[channels, height, width]</c> for images. A module reports its kind through
/// <see cref="Module{T}.Kind"/>. To add a kind: write a sealed subclass (usually beside its module, as
/// <see cref="DenseKind"/> sits in Dense.cs) and add one line to <see cref="LayerRegistry"/>; see
/// docs/architecture.md, "How to add a layer kind".
/// </remarks>
public abstract class LayerKind
{
    /// <summary>The kind's name in model files and the keyword of its <c>--net</c> item: lower case, e.g. <c>dense</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The name people know, e.g. <c>Dense</c>, <c>ReLU</c>.</summary>
    public abstract string DisplayName { get; }

    /// <summary>
    /// The keywords of its <c>--net</c> item, any case: the first is the one help shows, e.g. <c>conv</c>
    /// and <c>conv2d</c> (by default <see cref="Name"/> alone). Kinds may share a keyword when they take
    /// examples of different ranks (<c>batchnorm</c>: BatchNorm1d on rows, BatchNorm2d on images); the
    /// network description picks the one that takes the shape it is given.
    /// </summary>
    public virtual IReadOnlyList<string> Keywords => [Name];

    /// <summary>The rank of one example the layer takes: 1 for rows of numbers, 3 for images [C, H, W], or null for any.</summary>
    public virtual int? InputRank => null;

    /// <summary>The <c>--net</c> item's syntax, e.g. <c>dense UNITS [ACTIVATION]</c>.</summary>
    public virtual string Syntax => Keywords[0];

    /// <summary>One line for help: what the layer computes.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// A <c>--net</c> item of this kind (e.g. <c>dense 3 tanh</c>) and an input shape it takes (e.g.
    /// <c>[5]</c>, or <c>[2, 6, 6]</c> for a convolution): help shows it, and the tests that walk every
    /// registered kind build, save, export and gradient-check a small network with it.
    /// </summary>
    public virtual (string Item, Shape Input) Example => (Name, new Shape(5));

    /// <summary>
    /// Reads the words of a <c>--net</c> item after its keyword (for <c>dense 128 relu</c>:
    /// <c>128</c>, <c>relu</c>) into fields.
    /// </summary>
    /// <remarks><see cref="ItemWords"/> reads them with messages that say what is wrong.</remarks>
    /// <exception cref="BackpropException">The words do not fit <see cref="Syntax"/>; the message says what is wrong (the caller names the item).</exception>
    public abstract LayerFields Parse(IReadOnlyList<string> words);

    /// <summary>
    /// The fields of this layer with <paramref name="activation"/> fused into it, for an activation item
    /// right after it (<c>dense 8, relu</c> builds <c>dense 8 relu</c>: one operation); null when the kind
    /// fuses no activation or already has one other than the identity.
    /// </summary>
    public virtual LayerFields? FuseActivation(LayerFields fields, Activation activation) => null;

    /// <summary>The output shape for one example of shape <paramref name="input"/>.</summary>
    /// <exception cref="BackpropException">The fields are invalid, or the layer cannot take that input shape.</exception>
    public abstract Shape OutputShape(LayerFields fields, Shape input);

    /// <summary>
    /// The arrays a layer with these fields holds for that input shape, in storage order: its trained
    /// parameters, then any state that is not trained (e.g. running statistics). Model files check
    /// them before allocating anything.
    /// </summary>
    /// <exception cref="BackpropException">The fields are invalid, or the layer cannot take that input shape.</exception>
    public virtual IReadOnlyList<LayerArray> Arrays(LayerFields fields, Shape input) => [];

    /// <summary>Builds the layer (parameters zero until initialised or loaded).</summary>
    /// <exception cref="BackpropException">The fields are invalid, or the layer cannot take that input shape.</exception>
    public abstract Module<T> Create<T>(LayerFields fields, Shape input) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The fields that rebuild <paramref name="layer"/> (a module of this kind) with <see cref="Create{T}"/>.</summary>
    public abstract LayerFields FieldsOf<T>(Module<T> layer) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Sets the starting values of <paramref name="layer"/>'s parameters with <paramref name="initializer"/>
    /// (e.g. weights drawn for their fan-in and fan-out, biases 0). Layers without parameters do nothing.
    /// </summary>
    public virtual void Initialize<T>(Module<T> layer, Initializer initializer) where T : unmanaged, IFloatingPointIeee754<T>
    {
    }

    /// <summary>
    /// Checks the numbers of a layer just loaded from a model file beyond their being finite (e.g. that
    /// a running variance is not negative); most kinds accept any finite numbers.
    /// </summary>
    /// <exception cref="BackpropException">A number is one the layer cannot hold; the message says which (the caller names the layer).</exception>
    public virtual void CheckLoaded<T>(Module<T> layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
    }

    /// <summary>
    /// Adds <paramref name="layer"/>'s ONNX nodes (inference form) reading <paramref name="input"/>, whose
    /// shape is [batch, …<paramref name="inputShape"/>]; returns the name of the layer's output.
    /// Initializers are named after the layer's parameters; other tensors start with <paramref name="name"/>
    /// (the layer's name, e.g. <c>layer3</c>), e.g. <c>layer3.out</c>.
    /// </summary>
    public abstract string ExportOnnx<T>(Module<T> layer, OnnxGraph graph, string input, Shape inputShape, string name) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The layer's label in a model summary, e.g. <c>Dense(128, ReLU)</c>.</summary>
    public virtual string Label(LayerFields fields) => DisplayName;

    /// <inheritdoc/>
    public override string ToString() => DisplayName;

    /// <summary>The module's fields, after checking it is of this kind.</summary>
    /// <exception cref="ArgumentException">The module is of another kind.</exception>
    protected TModule Expect<TModule>(object layer) where TModule : class
        => layer as TModule ?? throw new ArgumentException($"{DisplayName} was given a {layer?.GetType().Name ?? "null"}.", nameof(layer));
}

/// <summary>One array a layer holds: its name after the layer's (<c>weight</c> → <c>layer0.weight</c>), its shape, and whether it is trained.</summary>
/// <param name="Name">The array's name within the layer, e.g. <c>weight</c>, <c>bias</c>, <c>runningMean</c>.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Trained">True for a parameter the optimizer trains; false for state (e.g. running statistics).</param>
public readonly record struct LayerArray(string Name, Shape Shape, bool Trained = true);
