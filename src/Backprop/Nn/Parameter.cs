using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// A tensor an optimizer trains. It has a stable name (<c>layer0.weight</c>), a name for each of its
/// numbers (<c>layer0.weight[0,1]</c>, or the lesson's <c>w1</c>) and, per number, whether it is
/// trained or held fixed (freezing).
/// </summary>
public sealed class Parameter<T> : Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool[] trainable;
    private int frozen;
    private readonly ElementNameList elementNames;
    private string[]? customNames;

    /// <summary>Creates a zero-filled parameter named <paramref name="name"/>.</summary>
    public Parameter(string name, Shape shape) : base(shape, requiresGrad: true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        trainable = new bool[shape.Length];
        Array.Fill(trainable, true);
        elementNames = new ElementNameList(this);
        Rename(name);
    }

    /// <summary>Names of the numbers, in storage order.</summary>
    /// <remarks>
    /// NOTE: the names <c>name[i,j]</c> are made when read, not stored: a network of millions of
    /// parameters would otherwise hold hundreds of megabytes of strings.
    /// </remarks>
    public IReadOnlyList<string> ElementNames => elementNames;

    /// <summary>Whether the numbers have names of their own (<see cref="SetElementNames"/>) rather than <c>name[i,j]</c>.</summary>
    public bool HasCustomElementNames => customNames is not null;

    /// <summary>Whether each number is trained (true) or held fixed (false), in storage order.</summary>
    public ReadOnlySpan<bool> Trainable => trainable;

    /// <summary>True when every number is trained.</summary>
    public bool IsFullyTrainable => frozen == 0;

    /// <summary>
    /// Gives the parameter a new name; each number is named <c>name[i]</c> (vectors),
    /// <c>name[i,j]</c> (matrices) or by its full index (<c>name[o,c,y,x]</c>).
    /// </summary>
    public void Rename(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        customNames = null;
    }

    /// <summary>Names the numbers individually, e.g. the lesson's <c>w1</c>, <c>w2</c>.</summary>
    public void SetElementNames(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length != Length)
        {
            throw new ArgumentException($"{Name} has {Length} numbers; {names.Length} names were given.", nameof(names));
        }
        customNames = (string[])names.Clone();
    }

    /// <summary>Trains (true) or holds fixed (false) the number at <paramref name="index"/>.</summary>
    public void SetTrainable(int index, bool value)
    {
        if (trainable[index] != value)
        {
            trainable[index] = value;
            frozen += value ? -1 : 1;
        }
    }

    /// <summary>Trains (true) or holds fixed (false) every number of this parameter.</summary>
    public void SetTrainable(bool value)
    {
        Array.Fill(trainable, value);
        frozen = value ? 0 : trainable.Length;
    }


    private string ElementName(int i)
    {
        if (customNames is { } names)
        {
            return names[i];
        }
        if (Shape.Rank < 2)
        {
            return $"{Name}[{i}]";
        }
        // Row-major multi-index: name[i,j] for a matrix, name[o,c,y,x] for a convolution kernel.
        Span<int> index = stackalloc int[Shape.Rank];
        for (var axis = Shape.Rank - 1; axis >= 0; axis--)
        {
            index[axis] = i % Shape[axis];
            i /= Shape[axis];
        }
        return $"{Name}[{string.Join(",", index.ToArray())}]";
    }

    private sealed class ElementNameList(Parameter<T> owner) : IReadOnlyList<string>
    {
        public string this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, owner.Length);
                return owner.ElementName(index);
            }
        }

        public int Count => owner.Length;

        public IEnumerator<string> GetEnumerator()
        {
            for (var i = 0; i < owner.Length; i++)
            {
                yield return owner.ElementName(i);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
