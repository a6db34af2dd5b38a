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
    private readonly string[] elementNames;
    private readonly bool[] trainable;
    private int frozen;

    /// <summary>Creates a zero-filled parameter named <paramref name="name"/>.</summary>
    public Parameter(string name, Shape shape) : base(shape, requiresGrad: true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        elementNames = new string[shape.Length];
        trainable = new bool[shape.Length];
        Array.Fill(trainable, true);
        Rename(name);
    }

    /// <summary>Names of the numbers, in storage order.</summary>
    public IReadOnlyList<string> ElementNames => elementNames;

    /// <summary>Whether each number is trained (true) or held fixed (false), in storage order.</summary>
    public ReadOnlySpan<bool> Trainable => trainable;

    /// <summary>True when every number is trained.</summary>
    public bool IsFullyTrainable => frozen == 0;

    /// <summary>
    /// Gives the parameter a new name; each number is named <c>name[i,j]</c> (matrices) or
    /// <c>name[i]</c> (vectors).
    /// </summary>
    public void Rename(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        for (var i = 0; i < elementNames.Length; i++)
        {
            elementNames[i] = Shape.Rank == 2 ? $"{name}[{i / Shape[1]},{i % Shape[1]}]" : $"{name}[{i}]";
        }
    }

    /// <summary>Names the numbers individually, e.g. the lesson's <c>w1</c>, <c>w2</c>.</summary>
    public void SetElementNames(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length != elementNames.Length)
        {
            throw new ArgumentException($"{Name} has {elementNames.Length} numbers; {names.Length} names were given.", nameof(names));
        }
        names.CopyTo(elementNames, 0);
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
}
