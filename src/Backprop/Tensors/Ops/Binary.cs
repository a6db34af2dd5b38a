using System.Numerics;
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

/// <summary>z = f(a, b) element by element, with ∂f/∂a and ∂f/∂b.</summary>
internal interface IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract string Name { get; }

    static abstract T Apply(T a, T b);

    static abstract T DerivativeA(T a, T b);

    static abstract T DerivativeB(T a, T b);
}

internal readonly struct AddRule<T> : IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "add";

    public static T Apply(T a, T b) => a + b;

    // ∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1
    public static T DerivativeA(T a, T b) => T.One;

    public static T DerivativeB(T a, T b) => T.One;
}

internal readonly struct SubtractRule<T> : IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "subtract";

    public static T Apply(T a, T b) => a - b;

    // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
    public static T DerivativeA(T a, T b) => T.One;

    public static T DerivativeB(T a, T b) => -T.One;
}

internal readonly struct MultiplyRule<T> : IBinaryRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static string Name => "multiply";

    public static T Apply(T a, T b) => a * b;

    // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
    public static T DerivativeA(T a, T b) => b;

    public static T DerivativeB(T a, T b) => a;
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

    private static int Index(Broadcast mode, int i, int column) => mode switch
    {
        Broadcast.Full => i,
        Broadcast.Row => column,
        _ => 0,
    };

    public override void Forward()
    {
        ReadOnlySpan<T> x = a.Data, y = b.Data;
        var z = Output.Data;
        var columns = Output.Shape.Columns;
        for (int i = 0, column = 0; i < z.Length; i++)
        {
            z[i] = TRule.Apply(x[Index(modeA, i, column)], y[Index(modeB, i, column)]);
            if (++column == columns)
            {
                column = 0;
            }
        }
    }

    public override void Backward()
    {
        ReadOnlySpan<T> x = a.Data, y = b.Data, dz = Output.GradData;
        var dx = a.RequiresGrad ? a.GradData : null;
        var dy = b.RequiresGrad ? b.GradData : null;
        var columns = Output.Shape.Columns;
        for (int i = 0, column = 0; i < dz.Length; i++)
        {
            int ia = Index(modeA, i, column), ib = Index(modeB, i, column);
            if (dx is not null)
            {
                dx[ia] += dz[i] * TRule.DerivativeA(x[ia], y[ib]);
            }
            if (dy is not null)
            {
                dy[ib] += dz[i] * TRule.DerivativeB(x[ia], y[ib]);
            }
            if (++column == columns)
            {
                column = 0;
            }
        }
    }
}
