using System.Numerics;
using Backprop.Autograd;

namespace Backprop.Tensors;

/// <summary>
/// A contiguous, row-major array of <typeparamref name="T"/> (float or double) with a shape, and the
/// node of the computation graph that produced it. Operations on tensors that require gradients are
/// recorded, so that <see cref="Backward"/> on a scalar result fills <see cref="Grad"/> of every
/// tensor that requires one.
/// </summary>
/// <typeparam name="T"><see cref="float"/> for speed, <see cref="double"/> for gradient checks.</typeparam>
public class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] data;
    private T[]? grad;
    private Tensor<T>? gradTensor;

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    public Tensor(Shape shape, bool requiresGrad = false)
    {
        Shape = shape;
        data = new T[shape.Length];
        RequiresGrad = requiresGrad;
    }

    /// <summary>Creates a tensor over a copy of <paramref name="values"/> with the given shape.</summary>
    public Tensor(ReadOnlySpan<T> values, Shape shape, bool requiresGrad = false)
    {
        if (values.Length != shape.Length)
        {
            throw new ArgumentException($"{values.Length} values cannot fill a tensor of shape {shape} ({shape.Length} elements).", nameof(values));
        }
        Shape = shape;
        data = values.ToArray();
        RequiresGrad = requiresGrad;
    }

    /// <summary>Wraps an existing array without copying (gradient views, reshaped views).</summary>
    private Tensor(T[] storage, Shape shape)
    {
        Shape = shape;
        data = storage;
    }

    /// <summary>A tensor over <paramref name="storage"/> itself, not a copy: writes to either are seen by both.</summary>
    internal static Tensor<T> Over(T[] storage, Shape shape)
    {
        if (storage.Length != shape.Length)
        {
            throw new ArgumentException($"Shape {shape} holds {shape.Length} values; the array has {storage.Length}.", nameof(shape));
        }
        return new Tensor<T>(storage, shape);
    }

    /// <summary>The tensor's dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length => data.Length;

    /// <summary>
    /// Whether gradients flow to this tensor. Set it on leaves (inputs, parameters); results of
    /// operations require a gradient when any of their inputs does.
    /// </summary>
    public bool RequiresGrad { get; set; }

    /// <summary>An optional name, shown in messages and graphs.</summary>
    public string? Name { get; set; }

    /// <summary>The operation that produced this tensor, or null for a leaf.</summary>
    public Op<T>? Creator { get; internal set; }

    /// <summary>True when this tensor was not produced by a recorded operation.</summary>
    public bool IsLeaf => Creator is null;

    /// <summary>The elements, row-major. Writing to it changes the tensor.</summary>
    public Span<T> Data => data;

    /// <summary>
    /// The gradient of the last <see cref="Backward"/> root with respect to this tensor, accumulated
    /// over calls until <see cref="ZeroGrad"/>; null until a backward pass reaches this tensor.
    /// </summary>
    public Tensor<T>? Grad => grad is null ? null : gradTensor ??= new Tensor<T>(grad, Shape);

    /// <summary>The gradient storage, allocated on first use.</summary>
    /// <remarks>
    /// NOTE: the first use may come from several worker threads at once (a convolution's images, pooling's
    /// planes, batch norm's channels each add into their part of one input gradient), so exactly one array
    /// must win: with a plain <c>??=</c> two threads could each make one, and the part written into the
    /// losing array was lost (a whole image's input gradient read as zeros, now and then).
    /// </remarks>
    internal T[] GradData => grad ?? AllocateGrad();

    private T[] AllocateGrad()
    {
        Interlocked.CompareExchange(ref grad, new T[data.Length], null);
        return grad;
    }

    /// <summary>The raw storage (internal: kernels work on it directly).</summary>
    internal T[] Storage => data;

    /// <summary>A tensor of another shape over the same storage (no copy); it has a gradient of its own.</summary>
    internal Tensor<T> ViewAs(Shape shape)
    {
        if (shape.Length != data.Length)
        {
            throw new ArgumentException($"A view of shape {shape} needs {shape.Length} elements; this tensor has {data.Length}.", nameof(shape));
        }
        return new Tensor<T>(data, shape);
    }

    /// <summary>The element at <paramref name="index"/> of the flattened tensor.</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public T this[int index]
    {
        get => data[index];
        set => data[index] = value;
    }

    /// <summary>The element at row <paramref name="row"/>, column <paramref name="column"/> of a matrix.</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public T this[int row, int column]
    {
        get => data[Index(row, column)];
        set => data[Index(row, column)] = value;
    }

    private int Index(int row, int column)
    {
        if (Shape.Rank != 2)
        {
            throw new InvalidOperationException($"Two indices need a matrix; this tensor has shape {Shape}.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Shape[0]);
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Shape[1]);
        return (row * Shape[1]) + column;
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public T Item()
    {
        if (Length != 1)
        {
            throw new InvalidOperationException($"Item() needs a single-element tensor; this one has shape {Shape}.");
        }
        return data[0];
    }

    /// <summary>A zero-filled tensor.</summary>
    public static Tensor<T> Zeros(params int[] shape) => new(new Shape(shape));

    /// <summary>A tensor over a copy of <paramref name="values"/>.</summary>
    public static Tensor<T> FromArray(T[] values, params int[] shape) => new(values, new Shape(shape));

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor<T> Scalar(T value, bool requiresGrad = false) => new([value], Shape.Scalar, requiresGrad);

    /// <summary>A matrix from rows of doubles, converted to <typeparamref name="T"/>.</summary>
    public static Tensor<T> FromRows(double[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Length == 0 || rows[0].Length == 0)
        {
            throw new ArgumentException("A matrix needs at least one row and one column.", nameof(rows));
        }
        var t = new Tensor<T>(new Shape(rows.Length, rows[0].Length));
        for (var r = 0; r < rows.Length; r++)
        {
            if (rows[r].Length != rows[0].Length)
            {
                throw new ArgumentException($"Row {r} has {rows[r].Length} values; row 0 has {rows[0].Length}.", nameof(rows));
            }
            for (var c = 0; c < rows[r].Length; c++)
            {
                t.data[(r * rows[0].Length) + c] = T.CreateChecked(rows[r][c]);
            }
        }
        return t;
    }

    /// <summary>
    /// Runs back-propagation from this scalar: visits the graph that produced it once, in reverse
    /// topological order, and adds d(this)/d(t) to the gradient of every tensor t that requires one.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public void Backward() => new Graph<T>(this).Backward();

    /// <summary>Sets this tensor's gradient to zero (gradients otherwise accumulate).</summary>
    public void ZeroGrad()
    {
        if (grad is not null)
        {
            Array.Clear(grad);
        }
    }

    /// <summary>The values as doubles (a copy).</summary>
    public double[] ToDoubleArray()
    {
        var result = new double[data.Length];
        for (var i = 0; i < data.Length; i++)
        {
            result[i] = double.CreateChecked(data[i]);
        }
        return result;
    }

    /// <summary>Describes the tensor: name, shape and up to eight values.</summary>
    public override string ToString()
    {
        var shown = string.Join(", ", data.Take(8).Select(v => v.ToString(null, System.Globalization.CultureInfo.InvariantCulture)));
        return $"{Name ?? "tensor"}{Shape}: [{shown}{(data.Length > 8 ? ", …" : "")}]";
    }

    /// <summary>Element-wise sum, broadcasting a row vector or scalar over rows.</summary>
    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b) => TensorOps.Add(a, b);

    /// <summary>Element-wise difference, broadcasting a row vector or scalar over rows.</summary>
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b) => TensorOps.Subtract(a, b);

    /// <summary>Element-wise product, broadcasting a row vector or scalar over rows.</summary>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b) => TensorOps.Multiply(a, b);

    /// <summary>Every element multiplied by a constant.</summary>
    public static Tensor<T> operator *(Tensor<T> a, T factor) => TensorOps.Scale(a, factor);

    /// <summary>Every element multiplied by a constant.</summary>
    public static Tensor<T> operator *(T factor, Tensor<T> a) => TensorOps.Scale(a, factor);

    /// <summary>Every element divided by a constant.</summary>
    public static Tensor<T> operator /(Tensor<T> a, T divisor) => TensorOps.Scale(a, T.One / divisor);

    /// <summary>Every element negated.</summary>
    public static Tensor<T> operator -(Tensor<T> a) => TensorOps.Scale(a, -T.One);
}
