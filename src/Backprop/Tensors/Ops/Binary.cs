using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;

namespace Backprop.Tensors.Ops;

/// <summary>How an operand of a binary operation is laid over the output.</summary>
internal enum Broadcast
{
    /// <summary>Same shape as the output.</summary>
    Full,

    /// <summary>One row, repeated for every row of the output (a bias).</summary>
    Row,

    /// <summary>One value, repeated everywhere.</summary>
    Scalar,
}

/// <summary>z = f(a, b) element by element, with ∂f/∂a and ∂f/∂b, on whole spans.</summary>
internal interface IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract string Name { get; }

    /// <summary>z = f(a, b) for spans of equal length.</summary>
    static abstract void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z);

    /// <summary>z = f(a, b) with b repeated.</summary>
    static abstract void Apply(ReadOnlySpan<T> a, T b, Span<T> z);

    /// <summary>z = f(a, b) with a repeated.</summary>
    static abstract void Apply(T a, ReadOnlySpan<T> b, Span<T> z);

    /// <summary>True for a·b, whose derivative with respect to one operand is the other; false for a ± b.</summary>
    static abstract bool IsProduct { get; }

    /// <summary>∂f/∂b when it is a constant (a ± b): +1 or −1.</summary>
    static abstract T SignB { get; }
}

internal readonly struct AddRule<T> : IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "add";

    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Add(a, b, z);

    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Add(a, b, z);

    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Add(b, a, z);

    // ∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1
    public static bool IsProduct => false;

    public static T SignB => T.One;
}

internal readonly struct SubtractRule<T> : IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "subtract";

    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Subtract(a, b, z);

    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Subtract(a, b, z);

    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Subtract(a, b, z);

    // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
    public static bool IsProduct => false;

    public static T SignB => -T.One;
}

internal readonly struct MultiplyRule<T> : IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "multiply";

    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Multiply(a, b, z);

    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Multiply(a, b, z);

    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Multiply(b, a, z);

    // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
    public static bool IsProduct => true;

    public static T SignB => T.One;
}

/// <summary>
/// An element-wise binary operation with row and scalar broadcasting. A broadcast operand's
/// gradient is the sum of the output gradient over the positions it was repeated to.
/// </summary>
internal sealed class BinaryOp<T, TRule> : Op<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TRule : struct, IBinaryRule<T>
{
    private readonly Tensor<T> a;
    private readonly Tensor<T> b;
    private readonly Broadcast modeA;
    private readonly Broadcast modeB;

    private BinaryOp(Tensor<T> a, Tensor<T> b, Shape shape, Broadcast modeA, Broadcast modeB)
        : base(TRule.Name, shape, a, b)
    {
        this.a = a;
        this.b = b;
        this.modeA = modeA;
        this.modeB = modeB;
    }

    public static BinaryOp<T, TRule> Create(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Shape == b.Shape)
        {
            return new(a, b, a.Shape, Broadcast.Full, Broadcast.Full);
        }
        if (b.Length == 1)
        {
            return new(a, b, a.Shape, Broadcast.Full, Broadcast.Scalar);
        }
        if (a.Length == 1)
        {
            return new(a, b, b.Shape, Broadcast.Scalar, Broadcast.Full);
        }
        if (IsRowOf(b.Shape, a.Shape))
        {
            return new(a, b, a.Shape, Broadcast.Full, Broadcast.Row);
        }
        if (IsRowOf(a.Shape, b.Shape))
        {
            return new(a, b, b.Shape, Broadcast.Row, Broadcast.Full);
        }
        throw new ArgumentException(
            $"Cannot {TRule.Name} tensors of shapes {a.Shape} and {b.Shape}: the shapes must match, or one must be a single value or one row of the other's columns.");
    }

    private static bool IsRowOf(Shape row, Shape matrix)
        => matrix.Rank == 2 && (row.Rank == 1 || (row.Rank == 2 && row[0] == 1)) && row.Columns == matrix.Columns;

    public override void Forward()
    {
        ReadOnlySpan<T> x = a.Data, y = b.Data;
        var z = Output.Data;
        var columns = Output.Shape.Columns;
        switch (modeA, modeB)
        {
            case (Broadcast.Full, Broadcast.Full):
                TRule.Apply(x, y, z);
                break;
            case (Broadcast.Full, Broadcast.Scalar):
                TRule.Apply(x, y[0], z);
                break;
            case (Broadcast.Scalar, _):
                TRule.Apply(x[0], y, z);
                break;
            case (Broadcast.Full, Broadcast.Row):
                for (var start = 0; start < z.Length; start += columns)
                {
                    TRule.Apply(x.Slice(start, columns), y, z.Slice(start, columns));
                }
                break;
            default:
                for (var start = 0; start < z.Length; start += columns)
                {
                    TRule.Apply(x, y.Slice(start, columns), z.Slice(start, columns));
                }
                break;
        }
    }

    // da += Σ over the positions a was repeated to of dz·∂f/∂a (b for a product, 1 otherwise); the same for b.
    public override void Backward()
    {
        ReadOnlySpan<T> dz = Output.GradData;
        var columns = Output.Shape.Columns;
        if (a.RequiresGrad)
        {
            Accumulate(a.GradData, modeA, dz, TRule.IsProduct ? b.Data : default, modeB, T.One, columns);
        }
        if (b.RequiresGrad)
        {
            Accumulate(b.GradData, modeB, dz, TRule.IsProduct ? a.Data : default, modeA, TRule.SignB, columns);
        }
    }

    // d += Σ dz·f (f = the other operand, laid out by fMode) or, when f is empty, Σ sign·dz. A broadcast
    // operand always meets a full one (Create), so the cases below are all there are.
    private static void Accumulate(Span<T> d, Broadcast mode, ReadOnlySpan<T> dz, ReadOnlySpan<T> f, Broadcast fMode, T sign, int columns)
    {
        var product = !f.IsEmpty;
        switch (mode, fMode)
        {
            case (Broadcast.Scalar, _):
                d[0] += product ? TensorPrimitives.Dot(dz, f) : sign * TensorPrimitives.Sum(dz);
                break;
            case (Broadcast.Row, _):
                for (var start = 0; start < dz.Length; start += columns)
                {
                    AddScaled(d, dz.Slice(start, columns), product ? f.Slice(start, columns) : default, sign);
                }
                break;
            case (_, Broadcast.Full):
                AddScaled(d, dz, f, sign);
                break;
            case (_, Broadcast.Scalar):
                if (product)
                {
                    TensorPrimitives.MultiplyAdd(dz, f[0], d, d);
                }
                else
                {
                    AddScaled(d, dz, default, sign);
                }
                break;
            default:
                for (var start = 0; start < dz.Length; start += columns)
                {
                    AddScaled(d.Slice(start, columns), dz.Slice(start, columns), f, sign);
                }
                break;
        }
    }

    // d += dz·f, or d ± dz when f is empty.
    private static void AddScaled(Span<T> d, ReadOnlySpan<T> dz, ReadOnlySpan<T> f, T sign)
    {
        if (!f.IsEmpty)
        {
            TensorPrimitives.MultiplyAdd(dz, f, d, d);
        }
        else if (sign == T.One)
        {
            TensorPrimitives.Add(d, dz, d);
        }
        else
        {
            TensorPrimitives.Subtract(d, dz, d);
        }
    }
}
