using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Autograd;
using Backprop.Kernels;

namespace Backprop.Tensors.Ops;

/// <summary>
/// Batch normalisation over dimension 1 of x [N, C, …]: y = γ · (x − μ) / √(σ² + ε) + β per
/// channel c, over the M = N · (product of the trailing dimensions) values of that channel.
/// </summary>
/// <remarks>
/// <para>
/// Training form: μ and σ² are the batch's mean and biased variance (two passes: the mean, then the
/// squared deviations from it); every forward pass also updates the running statistics as PyTorch
/// does, r ← (1 − momentum) · r + momentum · batch value, with the unbiased variance σ² · M/(M − 1).
/// Evaluation form: μ and σ² are the running statistics, read afresh on every forward pass.
/// </para>
/// <para>
/// Backward, with x̂ = (x − μ)/√(σ² + ε), s = 1/√(σ² + ε), Σdy and Σdy·(x − μ) per channel:
/// ∂L/∂β = Σdy, ∂L/∂γ = s · Σdy·(x − μ); in training (μ and σ² depend on x)
/// ∂L/∂x = γs · (dy − Σdy/M − (x − μ) · s² · Σdy·(x − μ)/M); in evaluation ∂L/∂x = γs · dy.
/// </para>
/// <para>
/// Channels with trailing dimensions (BatchNorm2d) run on the span kernels of <see cref="BatchNormKernels"/>,
/// one channel per task on the worker pool; each channel's sums run in a fixed order on one thread, so
/// the bits do not depend on the thread count. Without trailing dimensions (BatchNorm1d, [N, F])
/// the features are contiguous in each row, and each feature's sums accumulate row by row, vectorised across features.
/// </para>
/// </remarks>
internal sealed class BatchNormOp<T> : Op<T>, IParallelJob where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int ParallelThreshold = 1 << 15;

    private readonly Tensor<T> x, gamma, beta, runningMean, runningVar;
    private readonly bool training;
    private readonly T momentum, epsilon;
    private readonly int rows, channels, size, count;
    private readonly T[] mean, invStd, variance, scale, sumDy, dotDy, a, b, c, row;
    private Phase phase;

    private enum Phase
    {
        Statistics,
        Normalize,
        Sums,
        InputGradient,
    }

    public BatchNormOp(Tensor<T> x, Tensor<T> gamma, Tensor<T> beta, Tensor<T> runningMean, Tensor<T> runningVar, bool training, double momentum, double epsilon)
        : base(training ? "batchnorm" : "batchnorm (eval)", x.Shape, x, gamma, beta)
    {
        (this.x, this.gamma, this.beta, this.runningMean, this.runningVar, this.training) = (x, gamma, beta, runningMean, runningVar, training);
        this.momentum = T.CreateChecked(momentum);
        this.epsilon = T.CreateChecked(epsilon);
        rows = x.Shape[0];
        channels = x.Shape[1];
        size = x.Length / (rows * channels);
        count = rows * size;
        mean = new T[channels];
        invStd = new T[channels];
        variance = new T[channels];
        scale = new T[channels];
        sumDy = new T[channels];
        dotDy = new T[channels];
        a = new T[channels];
        b = new T[channels];
        c = new T[channels];
        row = size == 1 ? new T[channels] : [];
    }

    /// <summary>Each channel's mean used by the last forward pass (the batch's in training, the running one in evaluation).</summary>
    public ReadOnlySpan<T> Mean => mean;

    /// <summary>Each channel's 1/√(σ² + ε) used by the last forward pass.</summary>
    public ReadOnlySpan<T> InverseStdDev => invStd;

    public override void Forward()
    {
        if (training)
        {
            Run(Phase.Statistics);
            var keep = T.One - momentum;
            var unbiased = T.CreateChecked(count) / T.CreateChecked(count - 1);
            var rm = runningMean.Data;
            var rv = runningVar.Data;
            for (var ch = 0; ch < channels; ch++)
            {
                rm[ch] = (keep * rm[ch]) + (momentum * mean[ch]);
                rv[ch] = (keep * rv[ch]) + (momentum * variance[ch] * unbiased);
                invStd[ch] = T.One / T.Sqrt(variance[ch] + epsilon);
            }
        }
        else
        {
            runningMean.Data.CopyTo(mean);
            for (var ch = 0; ch < channels; ch++)
            {
                invStd[ch] = T.One / T.Sqrt(runningVar.Data[ch] + epsilon);
            }
        }
        TensorPrimitives.Multiply(gamma.Data, invStd, scale);
        Run(Phase.Normalize);
    }

    public override void Backward()
    {
        if (!x.RequiresGrad && !gamma.RequiresGrad && !beta.RequiresGrad)
        {
            return;
        }
        Run(Phase.Sums);
        if (gamma.RequiresGrad)
        {
            // ∂L/∂γ = s · Σ dy·(x − μ)
            TensorPrimitives.MultiplyAdd(dotDy, invStd, gamma.GradData, gamma.GradData);
        }
        if (beta.RequiresGrad)
        {
            // ∂L/∂β = Σ dy
            TensorPrimitives.Add(beta.GradData, sumDy, beta.GradData);
        }
        if (!x.RequiresGrad)
        {
            return;
        }
        var m = T.CreateChecked(count);
        for (var ch = 0; ch < channels; ch++)
        {
            // ∂L/∂x = a · dy + b · (x − μ) + c
            var gs = gamma.Data[ch] * invStd[ch];
            a[ch] = gs;
            b[ch] = training ? -gs * invStd[ch] * invStd[ch] * dotDy[ch] / m : T.Zero;
            c[ch] = training ? -gs * sumDy[ch] / m : T.Zero;
        }
        Run(Phase.InputGradient);
    }

    private void Run(Phase next)
    {
        phase = next;
        if (size == 1)
        {
            RunFeatures();
            return;
        }
        var threads = x.Length >= ParallelThreshold ? Math.Min(Parallelism.MaxDegreeOfParallelism, channels) : 1;
        if (threads <= 1)
        {
            for (var ch = 0; ch < channels; ch++)
            {
                Execute(ch);
            }
        }
        else
        {
            WorkerPool.Shared.Run(this, channels, threads);
        }
    }

    /// <summary>One channel of a [N, C, …] tensor with trailing dimensions: its values are N contiguous runs of <c>size</c>.</summary>
    public void Execute(int task)
    {
        var ch = task;
        ReadOnlySpan<T> xs = x.Data;
        switch (phase)
        {
            case Phase.Statistics:
                {
                    var sum = T.Zero;
                    for (var n = 0; n < rows; n++)
                    {
                        sum += BatchNormKernels.Sum(Slice(xs, n, ch));
                    }
                    var mu = sum / T.CreateChecked(count);
                    var squares = T.Zero;
                    for (var n = 0; n < rows; n++)
                    {
                        squares += BatchNormKernels.SumSquaredDeviations(Slice(xs, n, ch), mu);
                    }
                    mean[ch] = mu;
                    variance[ch] = squares / T.CreateChecked(count);
                    break;
                }
            case Phase.Normalize:
                {
                    var y = Output.Data;
                    for (var n = 0; n < rows; n++)
                    {
                        BatchNormKernels.Normalize(Slice(xs, n, ch), mean[ch], scale[ch], beta.Data[ch], y.Slice(((n * channels) + ch) * size, size));
                    }
                    break;
                }
            case Phase.Sums:
                {
                    ReadOnlySpan<T> dy = Output.GradData;
                    T sum = T.Zero, dot = T.Zero;
                    for (var n = 0; n < rows; n++)
                    {
                        var (s, d) = BatchNormKernels.SumAndDotDeviations(Slice(dy, n, ch), Slice(xs, n, ch), mean[ch]);
                        sum += s;
                        dot += d;
                    }
                    (sumDy[ch], dotDy[ch]) = (sum, dot);
                    break;
                }
            case Phase.InputGradient:
                {
                    ReadOnlySpan<T> dy = Output.GradData;
                    var dx = x.GradData.AsSpan();
                    for (var n = 0; n < rows; n++)
                    {
                        var at = ((n * channels) + ch) * size;
                        BatchNormKernels.AddInputGradient(Slice(dy, n, ch), Slice(xs, n, ch), mean[ch], a[ch], b[ch], c[ch], dx.Slice(at, size));
                    }
                    break;
                }
        }
    }

    private ReadOnlySpan<T> Slice(ReadOnlySpan<T> data, int n, int ch) => data.Slice(((n * channels) + ch) * size, size);

    // [N, F]: feature f of row n is at n·F + f, so each feature's sums run down the rows, all features at once.
    private void RunFeatures()
    {
        ReadOnlySpan<T> xs = x.Data;
        var f = channels;
        switch (phase)
        {
            case Phase.Statistics:
                {
                    Array.Clear(mean);
                    for (var n = 0; n < rows; n++)
                    {
                        TensorPrimitives.Add(mean, xs.Slice(n * f, f), mean);
                    }
                    TensorPrimitives.Divide(mean, T.CreateChecked(count), mean);
                    Array.Clear(variance);
                    for (var n = 0; n < rows; n++)
                    {
                        TensorPrimitives.Subtract(xs.Slice(n * f, f), mean, row);
                        TensorPrimitives.MultiplyAdd(row, row, variance, variance);
                    }
                    TensorPrimitives.Divide(variance, T.CreateChecked(count), variance);
                    break;
                }
            case Phase.Normalize:
                {
                    var y = Output.Data;
                    for (var n = 0; n < rows; n++)
                    {
                        var yr = y.Slice(n * f, f);
                        TensorPrimitives.Subtract(xs.Slice(n * f, f), mean, yr);
                        TensorPrimitives.MultiplyAdd(yr, scale, beta.Data, yr);
                    }
                    break;
                }
            case Phase.Sums:
                {
                    ReadOnlySpan<T> dy = Output.GradData;
                    Array.Clear(sumDy);
                    Array.Clear(dotDy);
                    for (var n = 0; n < rows; n++)
                    {
                        var dyr = dy.Slice(n * f, f);
                        TensorPrimitives.Add(sumDy, dyr, sumDy);
                        TensorPrimitives.Subtract(xs.Slice(n * f, f), mean, row);
                        TensorPrimitives.MultiplyAdd(dyr, row, dotDy, dotDy);
                    }
                    break;
                }
            case Phase.InputGradient:
                {
                    ReadOnlySpan<T> dy = Output.GradData;
                    var dx = x.GradData.AsSpan();
                    for (var n = 0; n < rows; n++)
                    {
                        var dxr = dx.Slice(n * f, f);
                        TensorPrimitives.MultiplyAdd(dy.Slice(n * f, f), a, dxr, dxr);
                        TensorPrimitives.Subtract(xs.Slice(n * f, f), mean, row);
                        TensorPrimitives.MultiplyAdd(row, b, dxr, dxr);
                        TensorPrimitives.Add(dxr, c, dxr);
                    }
                    break;
                }
        }
    }
}
