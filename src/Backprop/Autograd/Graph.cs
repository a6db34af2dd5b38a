using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// The recorded operations that produced a scalar root, in topological order (every operation after
/// the operations that produced its inputs). Back-propagation visits them once, in reverse.
/// </summary>
/// <remarks>
/// A graph can be replayed: write new values into its leaf tensors (for instance the next batch),
/// call <see cref="Forward"/> to recompute every operation in place, then <see cref="Backward"/>.
/// Replaying allocates nothing, which is how a training step runs without garbage.
/// </remarks>
public sealed class Graph<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int generation;
    private readonly Op<T>[] order;

    // Per operation, in order: whether Backward zeroes its output's gradient first, and which of its
    // inputs' gradients its own backward pass sets rather than adds to (see Op.GradientsToSet).
    private readonly bool[] zeroFirst;
    private readonly int[] setMasks;

    /// <summary>Records the graph that produced <paramref name="root"/>.</summary>
    public Graph(Tensor<T> root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = root;
        order = TopologicalOrder(root);
        (zeroFirst, setMasks) = PlanGradients(order, root);
    }

    /// <summary>The tensor back-propagation starts from.</summary>
    public Tensor<T> Root { get; }

    /// <summary>The operations, inputs before outputs.</summary>
    public IReadOnlyList<Op<T>> Operations => order;

    /// <summary>Which inputs' gradients operation <paramref name="index"/> (in <see cref="Operations"/>) sets rather than adds to in <see cref="Backward"/> (bit i for input i).</summary>
    internal int GradientsToSet(int index) => setMasks[index];

    /// <summary>Recomputes every operation from the current values of the leaves.</summary>
    public void Forward()
    {
        foreach (var op in order)
        {
            op.Forward();
        }
    }

    /// <summary>
    /// Seeds d(root)/d(root) = 1 and applies each operation's derivative rule in reverse topological
    /// order. Intermediate gradients are reset first (or, when one operation alone uses a tensor and
    /// can, set by that operation's rule); leaf gradients accumulate until zeroed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The root has more than one element, or requires no gradient.</exception>
    public void Backward()
    {
        if (Root.Length != 1)
        {
            throw new InvalidOperationException($"Backward() starts from a scalar such as a loss; this tensor has shape {Root.Shape}.");
        }
        if (!Root.RequiresGrad)
        {
            throw new InvalidOperationException("Backward() needs a result computed from tensors that require gradients (was it computed in a no-grad scope?).");
        }
        for (var i = 0; i < order.Length; i++)
        {
            if (zeroFirst[i])
            {
                Array.Clear(order[i].Output.GradData);
            }
            order[i].GradientsToSet = setMasks[i];
        }
        try
        {
            Root.GradData[0] += T.One;
            for (var i = order.Length - 1; i >= 0; i--)
            {
                order[i].Backward();
            }
        }
        finally
        {
            foreach (var op in order)
            {
                op.GradientsToSet = 0;
            }
        }
    }

    // An intermediate gradient is zeroed before the backward pass, so that every operation that
    // uses the tensor can add its share — unless a single operation uses it, once, and can set the
    // gradient itself (its backward pass then writes every element, as if onto zeros): the graph
    // then skips the zeroing, a pass over memory that can take longer than the operation.
    private static (bool[] ZeroFirst, int[] SetMasks) PlanGradients(Op<T>[] order, Tensor<T> root)
    {
        var uses = new Dictionary<Tensor<T>, int>(ReferenceEqualityComparer.Instance);
        foreach (var op in order)
        {
            foreach (var input in op.Inputs)
            {
                uses[input] = uses.GetValueOrDefault(input) + 1;
            }
        }
        var position = new Dictionary<Op<T>, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < order.Length; i++)
        {
            position[order[i]] = i;
        }
        var zeroFirst = new bool[order.Length];
        Array.Fill(zeroFirst, true);
        var setMasks = new int[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            var inputs = order[i].Inputs;
            for (var j = 0; j < inputs.Count && j < 32; j++)
            {
                var t = inputs[j];
                if (t.Creator is { } creator && !ReferenceEquals(t, root) && uses[t] == 1
                    && position.TryGetValue(creator, out var made) && order[i].SetsGradientOf(j))
                {
                    setMasks[i] |= 1 << j;
                    zeroFirst[made] = false;
                }
            }
        }
        return (zeroFirst, setMasks);
    }

    /// <summary>
    /// The first operation, in forward order, whose output holds NaN or ±∞, with its position; null when
    /// every output is finite. This is where a non-finite number appeared in the forward pass.
    /// </summary>
    public (Op<T> Op, int Index)? FirstNonFiniteOutput()
    {
        for (var i = 0; i < order.Length; i++)
        {
            if (!AllFinite(order[i].Output.Data))
            {
                return (order[i], i);
            }
        }
        return null;
    }

    /// <summary>
    /// The first operation, in the order the backward pass ran them, whose derivative rule produced a NaN
    /// or ±∞ gradient for one of its inputs from a finite output gradient; null when there is none.
    /// </summary>
    public (Op<T> Op, int Index)? FirstNonFiniteGradient()
    {
        for (var i = order.Length - 1; i >= 0; i--)
        {
            var op = order[i];
            if (op.Output.Grad is { } g && !AllFinite(g.Data))
            {
                continue; // it received a bad gradient rather than made one
            }
            foreach (var input in op.Inputs)
            {
                if (input.Grad is { } ig && !AllFinite(ig.Data))
                {
                    return (op, i);
                }
            }
        }
        return null;
    }

    /// <summary>Describes an operation for a message: <c>matmul (operation 3 of 11; inputs: tensor, layer0.weight)</c>.</summary>
    public string Describe(Op<T> op, int index)
    {
        ArgumentNullException.ThrowIfNull(op);
        var inputs = string.Join(", ", op.Inputs.Select(t => t.Name ?? t.Creator?.Name ?? "data"));
        return $"{op.Name} (operation {index + 1} of {order.Length}; inputs: {inputs})";
    }

    private static bool AllFinite(ReadOnlySpan<T> values)
    {
        foreach (var v in values)
        {
            if (!T.IsFinite(v))
            {
                return false;
            }
        }
        return true;
    }

    // Iterative depth-first post-order: an explicit stack, so a chain of any length is safe.
    private static Op<T>[] TopologicalOrder(Tensor<T> root)
    {
        var result = new List<Op<T>>();
        if (root.Creator is not { } start)
        {
            return [];
        }
        var mark = Interlocked.Increment(ref generation);
        var stack = new Stack<(Op<T> Op, int Next)>();
        start.VisitMark = mark;
        stack.Push((start, 0));
        while (stack.Count > 0)
        {
            var (op, next) = stack.Pop();
            if (next == op.Inputs.Count)
            {
                result.Add(op);
                continue;
            }
            stack.Push((op, next + 1));
            if (op.Inputs[next].Creator is { } child && child.VisitMark != mark)
            {
                child.VisitMark = mark;
                stack.Push((child, 0));
            }
        }
        return [.. result];
    }
}
