using System.Numerics;
using Backprop.Autograd;

namespace Backprop.Tensors.Ops;

/// <summary>
/// Mean over rows of the cross-entropy between softmax(logits) and the target:
/// L = (1/n) Σᵢ Σ_c tᵢ,c (lseᵢ − zᵢ,c), lseᵢ = mᵢ + log Σ_c e^(zᵢ,c − mᵢ), mᵢ = max_c zᵢ,c.
/// </summary>
/// <remarks>
/// The target is either class indices [n] (stored as numbers) or class probabilities [n, classes].
/// Subtracting the row maximum keeps every exponent ≤ 0 (log-sum-exp), so logits of ±400 are fine.
/// Gradient: ∂L/∂zᵢ,c = (pᵢ,c · Σ_c tᵢ,c − tᵢ,c)/n with p = softmax(z); for one-hot targets, (p − t)/n.
/// The target receives no gradient.
/// </remarks>
internal sealed class SoftmaxCrossEntropyOp<T> : Op<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> logits;
    private readonly Tensor<T> target;
    private readonly bool indices;
    private readonly int rows;
    private readonly int classes;
    private readonly T[] probabilities;

    public SoftmaxCrossEntropyOp(Tensor<T> logits, Tensor<T> target)
        : base("softmax_cross_entropy", Shape.Scalar, logits, target)
    {
        if (logits.Shape.Rank != 2)
        {
            throw new ArgumentException($"Cross-entropy needs logits of shape [rows, classes]; got {logits.Shape}.");
        }
        this.logits = logits;
        this.target = target;
        rows = logits.Shape[0];
        classes = logits.Shape[1];
        indices = target.Shape == new Shape(rows) || (target.Shape == new Shape(rows, 1) && classes > 1);
        if (!indices && target.Shape != logits.Shape)
        {
            throw new ArgumentException($"Cross-entropy targets must be class indices [{rows}] or probabilities {logits.Shape}; got {target.Shape}.");
        }
        probabilities = new T[logits.Length];
    }

    private int ClassOf(int row)
    {
        var value = target.Data[row];
        var c = int.CreateSaturating(value);
        if (T.CreateChecked(c) != value || c < 0 || c >= classes)
        {
            throw new ArgumentException($"Target of row {row} is {value}, not a class index from 0 to {classes - 1}.");
        }
        return c;
    }

    public override void Forward()
    {
        ReadOnlySpan<T> z = logits.Data, t = target.Data;
        var total = T.Zero;
        for (var i = 0; i < rows; i++)
        {
            var zi = z.Slice(i * classes, classes);
            var pi = probabilities.AsSpan(i * classes, classes);
            var max = zi[0];
            foreach (var v in zi)
            {
                max = T.Max(max, v);
            }
            var sum = T.Zero;
            for (var c = 0; c < classes; c++)
            {
                pi[c] = T.Exp(zi[c] - max);
                sum += pi[c];
            }
            var lse = max + T.Log(sum);
            for (var c = 0; c < classes; c++)
            {
                pi[c] /= sum;
            }
            if (indices)
            {
                total += lse - zi[ClassOf(i)];
            }
            else
            {
                var ti = t.Slice(i * classes, classes);
                for (var c = 0; c < classes; c++)
                {
                    if (ti[c] != T.Zero)
                    {
                        total += ti[c] * (lse - zi[c]);
                    }
                }
            }
        }
        Output.Data[0] = total / T.CreateChecked(rows);
    }

    public override void Backward()
    {
        if (!logits.RequiresGrad)
        {
            return;
        }
        var scale = Output.GradData[0] / T.CreateChecked(rows);
        var dz = logits.GradData;
        ReadOnlySpan<T> t = target.Data;
        for (var i = 0; i < rows; i++)
        {
            var pi = probabilities.AsSpan(i * classes, classes);
            var dzi = dz.AsSpan(i * classes, classes);
            if (indices)
            {
                var label = ClassOf(i);
                for (var c = 0; c < classes; c++)
                {
                    dzi[c] += scale * (pi[c] - (c == label ? T.One : T.Zero));
                }
            }
            else
            {
                var ti = t.Slice(i * classes, classes);
                var mass = T.Zero;
                foreach (var v in ti)
                {
                    mass += v;
                }
                for (var c = 0; c < classes; c++)
                {
                    dzi[c] += scale * ((pi[c] * mass) - ti[c]);
                }
            }
        }
    }
}
