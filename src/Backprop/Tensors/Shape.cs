namespace Backprop.Tensors;

/// <summary>
/// The dimensions of a contiguous, row-major tensor. A rank-0 shape is a scalar (one element).
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? dims;
    private readonly int length;

    /// <summary>Creates a shape from its dimensions; every dimension must be positive.</summary>
    public Shape(params int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        long length = 1;
        foreach (var d in dimensions)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(d, nameof(dimensions));
            length *= d;
            ArgumentOutOfRangeException.ThrowIfGreaterThan(length, (long)Array.MaxLength, nameof(dimensions));
        }
        dims = (int[])dimensions.Clone();
        this.length = (int)length;
    }

    /// <summary>The shape of a scalar: rank 0, one element.</summary>
    public static Shape Scalar => new([]);

    /// <summary>Number of dimensions.</summary>
    public int Rank => dims?.Length ?? 0;

    /// <summary>Number of elements (the product of the dimensions; 1 for a scalar).</summary>
    public int Length => dims is null ? 1 : length;

    /// <summary>The size of dimension <paramref name="axis"/>.</summary>
    public int this[int axis] => (dims ?? [])[axis];

    /// <summary>
    /// Rows when viewed as a matrix: the first dimension (the batch) for rank 2 and above, otherwise 1.
    /// </summary>
    public int Rows => Rank >= 2 ? dims![0] : 1;

    /// <summary>Columns when viewed as a matrix: the last dimension (1 for a scalar).</summary>
    public int Columns => Rank == 0 ? 1 : dims![^1];

    /// <summary>The dimensions as a new array.</summary>
    public int[] ToArray() => dims is null ? [] : (int[])dims.Clone();

    /// <inheritdoc/>
    public bool Equals(Shape other) => ((ReadOnlySpan<int>)(dims ?? [])).SequenceEqual(other.dims ?? []);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in dims ?? [])
        {
            hash.Add(d);
        }
        return hash.ToHashCode();
    }

    /// <summary>Equality of dimensions.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Inequality of dimensions.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Formats as <c>[2, 3]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", dims ?? []) + "]";
}
