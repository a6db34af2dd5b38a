using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>
/// A 2-D convolution layer's whole computation as one recorded operation:
/// Y = f(conv(X, W) + b) for X [N, C, H, W] (NCHW), W [O, C, KH, KW] (OIHW), b [O] (optional),
/// with a stride and zero padding; Y is [N, O, OH, OW].
/// </summary>
/// <remarks>
/// <para>
/// Forward, per image n: col = im2col(Xₙ) [C·KH·KW, OH·OW]; the product is formed transposed,
/// Yₙᵀ = colᵀ·Wᵀ [OH·OW, O] (GEMM, W seen as a matrix [O, C·KH·KW]) — the positions are the long
/// side, which the micro-kernel's tiles cover with little waste, and colᵀ is read in place — then
/// turned to channels-first with each channel's bias added, and f applied in place, while Yₙ is in
/// cache. The columns of a few images (up to 512 KB) sit side by side and go through one product;
/// every element is the same sum either way. A short patch with stride 1 (a first layer) skips the
/// column matrix: <see cref="DirectConvKernels"/> computes the same sums from the padded image.
/// Backward, from dY: dZ = dY ⊙ f′ in place; db += Σₙ,ₚ dZ[n, o, p]; dWᵀ += Σₙ colₙ·dZₙᵀ (again
/// transposed, [C·KH·KW, O], for the same reason; the same sums); dXₙ += col2im(Wᵀ·dZₙ). The column
/// matrix is made again in the backward pass rather than kept for the whole batch (a few hundred
/// KB per image, rebuilt while the image's gradient is in cache).
/// </para>
/// <para>
/// Threads and bits. The images are cut into a fixed number of groups (<see cref="Groups"/>: it
/// depends on the batch size only) that run on the <see cref="WorkerPool"/>, each GEMM on one thread.
/// An image's output and input gradient are computed by the same operations whichever thread runs
/// it. The weight and bias gradients are sums over images: each group adds its images in order into
/// a partial sum of its own, and the partial sums are added to dW and db in group order, so the bits
/// do not depend on the thread count. After the first step nothing is allocated: the column buffers
/// and partial sums belong to the op, which the graph replays.
/// </para>
/// NOTE: as with the dense layer's fused op, after <see cref="Backward"/> the output's gradient holds dZ.
/// </remarks>
internal sealed class Conv2dOp<T, TActivation> : Op<T>, IParallelJob
    where T : unmanaged, IFloatingPointIeee754<T>
    where TActivation : struct, IActivationRule<T>
{
    /// <summary>Most groups the images are cut into (the unit of work per thread and of the weight-gradient partial sums).</summary>
    private const int MaxGroups = 16;

    /// <summary>Most elements of a forward product's column matrix (several images side by side): 512 KB of float, so that it and its packed copy stay in a 1 MB L2.</summary>
    private const int MaxColumnElements = 1 << 16;

    private readonly Tensor<T> x;
    private readonly Tensor<T> weight;
    private readonly Tensor<T>? bias;
    private readonly ConvGeometry g;
    private readonly int n;
    private readonly int outChannels;
    private readonly T[] derivative;
    private readonly T[][] columns;
    private readonly T[][] products;
    private readonly int imagesPerProduct;
    private readonly bool direct;
    private readonly T[][] padded;
    private T[][] columnGrads = [];
    private T[][] weightGrads = [];
    private T[] weightSums = [];
    private T[][] biasGrads = [];
    private bool backward;
    private bool needX;
    private bool needW;
    private bool needB;

    public Conv2dOp(Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, int stride, int padding)
        : base(TActivation.Name.Replace("linear", "conv2d", StringComparison.Ordinal),
            OutputShape(x, weight, bias, stride, padding), bias is null ? [x, weight] : [x, weight, bias])
    {
        this.x = x;
        this.weight = weight;
        this.bias = bias;
        n = x.Shape[0];
        outChannels = weight.Shape[0];
        g = new ConvGeometry(x.Shape[1], x.Shape[2], x.Shape[3], weight.Shape[2], weight.Shape[3], stride, padding);
        Groups = Math.Min(n, MaxGroups);
        derivative = TActivation.KeepsDerivative ? new T[Output.Length] : [];
        // The forward pass multiplies the columns of several images of a group at once (a wider
        // product runs closer to the kernel's peak); each element is the same sum either way.
        // A short patch with stride 1 (a first layer) skips the column matrix and the product: the
        // direct kernel computes the same chains from the padded image.
        direct = DirectConvKernels.Applies(g);
        padded = direct ? Buffers(DirectConvKernels.PaddedLength(g)) : [];
        var groupImages = (n + Groups - 1) / Groups;
        imagesPerProduct = direct ? 1 : Math.Clamp(MaxColumnElements / Math.Max(1, g.PatchLength * g.Positions), 1, groupImages);
        columns = Buffers(g.PatchLength * g.Positions * imagesPerProduct);
        products = direct ? [] : Buffers(outChannels * g.Positions * imagesPerProduct);
    }

    // Each image's input gradient is zeroed just before col2im adds to it (in cache, on its thread).
    internal override bool SetsGradientOf(int index) => index == 0;

    /// <summary>How many groups the batch's images are cut into.</summary>
    public int Groups { get; }

    internal static Shape OutputShape(Tensor<T> x, Tensor<T> weight, Tensor<T>? bias, int stride, int padding)
    {
        if (x.Shape.Rank != 4)
        {
            throw new ArgumentException($"A 2-D convolution takes images [batch, channels, height, width]; it was given shape {x.Shape}.", nameof(x));
        }
        if (weight.Shape.Rank != 4)
        {
            throw new ArgumentException($"Convolution weights must be [out channels, in channels, kernel height, kernel width]; got shape {weight.Shape}.", nameof(weight));
        }
        if (weight.Shape[1] != x.Shape[1])
        {
            throw new ArgumentException($"The weights {weight.Shape} take {weight.Shape[1]} input channels; the images {x.Shape} have {x.Shape[1]}.", nameof(weight));
        }
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Length != weight.Shape[0]))
        {
            throw new ArgumentException($"The bias must hold one value per output channel ({weight.Shape[0]}); got shape {bias.Shape}.", nameof(bias));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        int h = x.Shape[2] + (2 * padding), w = x.Shape[3] + (2 * padding);
        if (weight.Shape[2] > h || weight.Shape[3] > w)
        {
            throw new ArgumentException($"A {weight.Shape[2]}×{weight.Shape[3]} kernel does not fit images of {x.Shape[2]}×{x.Shape[3]} with padding {padding}.", nameof(weight));
        }
        return new Shape(x.Shape[0], weight.Shape[0], ((h - weight.Shape[2]) / stride) + 1, ((w - weight.Shape[3]) / stride) + 1);
    }

    public override void Forward()
    {
        backward = false;
        WorkerPool.Shared.Run(this, Groups, Parallelism.MaxDegreeOfParallelism);
    }

    public override void Backward()
    {
        needX = x.RequiresGrad;
        needW = weight.RequiresGrad;
        needB = bias is { RequiresGrad: true };
        // Made on the first backward pass that needs them, then reused.
        columnGrads = needX && columnGrads.Length == 0 ? Buffers(g.PatchLength * g.Positions) : columnGrads;
        weightGrads = needW && weightGrads.Length == 0 ? Buffers(weight.Length) : weightGrads;
        weightSums = needW && weightSums.Length == 0 ? new T[weight.Length] : weightSums;
        biasGrads = needB && biasGrads.Length == 0 ? Buffers(outChannels) : biasGrads;
        backward = true;
        WorkerPool.Shared.Run(this, Groups, Parallelism.MaxDegreeOfParallelism);
        // The groups' partial sums, in group order: the same bits at any thread count.
        if (needW)
        {
            // dW[o, r] += partial[r, o], group after group: the running sums are kept transposed
            // (as the partials are) for whole-row additions, and turned back at the end.
            var dw = weight.GradData.AsSpan();
            var sums = weightSums.AsSpan();
            ConvKernels.Transpose<T>(dw, outChannels, g.PatchLength, [], sums);
            foreach (var partial in weightGrads)
            {
                TensorPrimitives.Add(sums, partial, sums);
            }
            ConvKernels.Transpose<T>(sums, g.PatchLength, outChannels, [], dw);
        }
        if (needB)
        {
            var db = bias!.GradData.AsSpan();
            foreach (var partial in biasGrads)
            {
                TensorPrimitives.Add(db, partial, db);
            }
        }
    }

    /// <summary>Runs group <paramref name="task"/>: its images' forward or backward pass, in order.</summary>
    public void Execute(int task)
    {
        int first = (int)((long)task * n / Groups), last = (int)((long)(task + 1) * n / Groups);
        if (!backward)
        {
            for (var image = first; image < last; image += imagesPerProduct)
            {
                ForwardImages(task, image, Math.Min(imagesPerProduct, last - image));
            }
            return;
        }
        for (var image = first; image < last; image++)
        {
            BackwardImage(task, image, image == first);
        }
    }

    private T[][] Buffers(int length) => [.. Enumerable.Range(0, Groups).Select(_ => new T[length])];

    private static GemmOptions OneThread => new(1);

    // Images [first, first + count) of a group: their columns side by side, one product, then each
    // image's block of the product to its place in the output, plus bias, then f.
    private void ForwardImages(int group, int first, int count)
    {
        int outLength = outChannels * g.Positions, patch = g.PatchLength, positions = g.Positions, width = count * positions;
        if (direct)
        {
            var y = Output.Data.Slice(first * outLength, outLength);
            DirectConvKernels.Forward<T>(g, x.Data.Slice(first * g.ImageLength, g.ImageLength), weight.Data,
                bias is null ? [] : bias.Data, outChannels, padded[group], y);
            TActivation.Apply(y, derivative.Length == 0 ? [] : derivative.AsSpan(first * outLength, outLength));
            return;
        }
        var col = columns[group];
        for (var i = 0; i < count; i++)
        {
            ConvKernels.Im2Col<T>(g, x.Data.Slice((first + i) * g.ImageLength, g.ImageLength), col.AsSpan(i * positions), width);
        }
        // Yᵀ[count·P, O] = colᵀ[count·P, C·KH·KW] · Wᵀ[C·KH·KW, O]: each image's block of rows is its Yₙᵀ.
        var product = products[group];
        Gemm.Multiply<T>(true, true, width, outChannels, patch, col, weight.Data, product, accumulate: false, OneThread);
        for (var i = 0; i < count; i++)
        {
            var y = Output.Data.Slice((first + i) * outLength, outLength);
            ConvKernels.Transpose<T>(product.AsSpan(i * outLength, outLength), positions, outChannels, bias is null ? [] : bias.Data, y);
            TActivation.Apply(y, derivative.Length == 0 ? [] : derivative.AsSpan((first + i) * outLength, outLength));
        }
    }

    private void BackwardImage(int group, int image, bool firstOfGroup)
    {
        int outLength = outChannels * g.Positions, patch = g.PatchLength, positions = g.Positions;
        var dz = Output.GradData.AsSpan(image * outLength, outLength);
        TActivation.ToPreActivationGradient(Output.Data.Slice(image * outLength, outLength),
            derivative.Length == 0 ? [] : derivative.AsSpan(image * outLength, outLength), dz);
        if (needB)
        {
            // db partial (+)= Σₚ dZₙ[o, p]
            var db = biasGrads[group];
            for (var o = 0; o < outChannels; o++)
            {
                var sum = TensorPrimitives.Sum<T>(dz.Slice(o * positions, positions));
                db[o] = firstOfGroup ? sum : db[o] + sum;
            }
        }
        if (needW)
        {
            // dW partial (+)= dZₙ[O, P] · colₙᵀ[P, C·KH·KW]
            var col = columns[group];
            ConvKernels.Im2Col<T>(g, x.Data.Slice(image * g.ImageLength, g.ImageLength), col);
            // dWᵀ partial (+)= colₙ[C·KH·KW, P] · dZₙᵀ[P, O]
            Gemm.Multiply<T>(false, true, patch, outChannels, positions, col, dz, weightGrads[group], accumulate: !firstOfGroup, OneThread);
        }
        if (needX)
        {
            // dcol[C·KH·KW, P] = Wᵀ · dZₙ, then each column element back to its pixel
            var dcol = columnGrads[group];
            Gemm.Multiply<T>(true, false, patch, positions, outChannels, weight.Data, dz, dcol, accumulate: false, OneThread);
            var dx = x.GradData.AsSpan(image * g.ImageLength, g.ImageLength);
            if (MustSetGradientOf(0))
            {
                dx.Clear();
            }
            ConvKernels.Col2Im<T>(g, dcol, dx);
        }
    }
}
