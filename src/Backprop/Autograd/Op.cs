using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// One recorded operation: its inputs, its output, the forward computation and, beside it, the
/// derivative rule that sends the output's gradient back to the inputs (the local chain rule).
/// </summary>
/// <remarks>
/// <see cref="Forward"/> overwrites <see cref="Output"/> from the inputs and may be run again on new
/// input values (graph replay, <see cref="Graph{T}.Forward"/>); <see cref="Backward"/> adds
/// d(root)/d(input) = d(root)/d(output) · d(output)/d(input) to each input that requires a gradient.
/// </remarks>
public abstract class Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T>[] inputs;

    /// <summary>Creates the operation and allocates its output.</summary>
    protected Op(string name, Shape outputShape, params Tensor<T>[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Name = name;
        this.inputs = inputs;
        Output = new Tensor<T>(outputShape);
    }

    /// <summary>Creates the operation around an output made by the caller (a view of an input's storage).</summary>
    private protected Op(string name, Tensor<T> output, params Tensor<T>[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Name = name;
        this.inputs = inputs;
        Output = output;
    }

    /// <summary>The operation's name, e.g. <c>matmul</c> or <c>softplus</c>.</summary>
    public string Name { get; }

    /// <summary>The operation's inputs, in order.</summary>
    public IReadOnlyList<Tensor<T>> Inputs => inputs;

    /// <summary>The tensor this operation produced.</summary>
    public Tensor<T> Output { get; }

    /// <summary>Marks nodes already visited by the current topological sort.</summary>
    internal int VisitMark { get; set; }

    /// <summary>
    /// Bit i set: during this backward pass, this operation is the only one that writes input i's
    /// gradient, and the graph has not zeroed it; <see cref="Backward"/> must then leave exactly
    /// what it would have left in a zeroed gradient (for instance, zero its part and add, while the
    /// numbers are in cache), which saves a separate pass over memory. Set by
    /// <see cref="Graph{T}.Backward"/> for inputs whose <see cref="SetsGradientOf"/> is true, and
    /// cleared after it.
    /// </summary>
    internal int GradientsToSet { get; set; }

    /// <summary>
    /// Whether this operation's <see cref="Backward"/> honours <see cref="GradientsToSet"/> for input
    /// <paramref name="index"/>; false unless an operation says otherwise.
    /// </summary>
    internal virtual bool SetsGradientOf(int index) => false;

    /// <summary>Whether this backward pass must set, not add to, input <paramref name="index"/>'s gradient (see <see cref="GradientsToSet"/>).</summary>
    private protected bool MustSetGradientOf(int index) => ((GradientsToSet >> index) & 1) != 0;

    /// <summary>Computes <see cref="Output"/> from the current values of the inputs.</summary>
    public abstract void Forward();

    /// <summary>Adds the output gradient, times the local derivative, to each input that requires a gradient.</summary>
    public abstract void Backward();

    /// <summary>
    /// Runs the forward computation and, when gradients are recorded and an input requires one,
    /// attaches this operation to its output.
    /// </summary>
    internal Tensor<T> Run()
    {
        Forward();
        if (GradMode.IsEnabled && Array.Exists(inputs, t => t.RequiresGrad))
        {
            Output.RequiresGrad = true;
            Output.Creator = this;
        }
        return Output;
    }
}
