using System.Numerics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>What a model scored on a set of rows.</summary>
/// <param name="Loss">The loss over all the rows (a sum or a mean, as the loss defines it).</param>
/// <param name="Accuracy">For classification, the fraction of rows whose largest output is the observed class; otherwise null.</param>
/// <param name="Rows">How many rows were scored.</param>
public readonly record struct Evaluation(double Loss, double? Accuracy, int Rows)
{
    /// <summary>For regression, MSE, RMSE, MAE and R² of the rows; otherwise null.</summary>
    public RegressionMetrics? Regression { get; init; }
}

/// <summary>
/// Scores a model on many rows in chunks, so that memory stays that of one chunk however many rows
/// there are: the loss, and for classification the accuracy and a <see cref="ConfusionMatrix"/>.
/// </summary>
/// <remarks>
/// The model is scored in evaluation mode (<see cref="Module{T}.Eval"/>); its mode is restored afterwards.
/// Each chunk size's forward pass is recorded once and replayed on the next chunk's rows
/// (<see cref="Graph{T}.Forward"/>), so scoring allocates nothing after the first chunk. Chunk losses
/// combine as the loss defines (<see cref="Loss.SumsOverRows"/>): added for a sum, weighted by rows for a mean.
/// </remarks>
public sealed class Evaluator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<int, Chunk> chunks = [];

    /// <summary>Creates an evaluator of <paramref name="model"/> with <paramref name="loss"/>, <paramref name="chunkRows"/> rows at a time.</summary>
    public Evaluator(Module<T> model, Loss loss, int chunkRows = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkRows);
        Model = model;
        Loss = loss;
        ChunkRows = chunkRows;
    }

    /// <summary>The model scored.</summary>
    public Module<T> Model { get; }

    /// <summary>The loss computed.</summary>
    public Loss Loss { get; }

    /// <summary>Rows per chunk.</summary>
    public int ChunkRows { get; }

    /// <summary>
    /// The shape a dataset row is given to the model as, without the batch dimension (e.g. [1, 28, 28]
    /// for a convolutional network on Fashion-MNIST's rows of 784 pixels: a view, nothing copied); null
    /// for rows as they are. Used by <see cref="Evaluate(Dataset, ConfusionMatrix?, int[], double[])"/>.
    /// </summary>
    public Shape? ExampleShape { get; set; }

    /// <summary>Scores the model on <paramref name="inputs"/> [rows, inputs] against <paramref name="targets"/>.</summary>
    /// <param name="inputs">[rows, inputs], or examples of any shape [rows, …] (images [rows, C, H, W]).</param>
    /// <param name="targets">[rows, outputs], or class indices [rows] or [rows, 1].</param>
    /// <param name="confusion">For classification, a matrix to add every row's (observed, predicted) pair to.</param>
    public Evaluation Evaluate(Tensor<T> inputs, Tensor<T> targets, ConfusionMatrix? confusion = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Shape.Rank < 2 || targets.Shape.Rank is < 1 or > 2 || targets.Shape[0] != inputs.Shape.Rows)
        {
            throw new BackpropException($"Inputs {inputs.Shape} and targets {targets.Shape} must be matrices with the same number of rows.");
        }
        int inWidth = inputs.Length / inputs.Shape.Rows, outWidth = targets.Length / targets.Shape[0];
        return Run(inputs.Shape, targets.Shape, confusion, null, null, (start, count, x, y) =>
        {
            inputs.Data.Slice(start * inWidth, count * inWidth).CopyTo(x);
            targets.Data.Slice(start * outWidth, count * outWidth).CopyTo(y);
        });
    }

    /// <summary>Scores the model on every row of <paramref name="data"/>, without making tensors of all of it.</summary>
    /// <param name="data">The rows.</param>
    /// <param name="confusion">For classification, a matrix to add every row's (observed, predicted) pair to.</param>
    /// <param name="predictions">For classification, receives each row's predicted class (one element per row).</param>
    /// <param name="confidences">For classification, receives each row's probability (softmax) for its predicted class (one element per row).</param>
    public Evaluation Evaluate(Dataset data, ConfusionMatrix? confusion = null, int[]? predictions = null, double[]? confidences = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (predictions is not null && predictions.Length != data.Count)
        {
            throw new ArgumentException($"{data.Count} rows need {data.Count} predictions; the array has {predictions.Length}.", nameof(predictions));
        }
        if (confidences is not null && confidences.Length != data.Count)
        {
            throw new ArgumentException($"{data.Count} rows need {data.Count} confidences; the array has {confidences.Length}.", nameof(confidences));
        }
        if (ExampleShape is { } example && example.Length != data.InputCount)
        {
            throw new BackpropException($"The model takes examples of shape {example} ({example.Length} numbers); the data ({data.Name}) has rows of {data.InputCount}.");
        }
        var targets = data.Targets.ToArray();
        var width = data.TargetCount;
        return Run(ExampleShape is { } e ? new Shape([data.Count, .. e.ToArray()]) : new Shape(data.Count, data.InputCount), new Shape(data.Count, width), confusion, predictions, confidences, (start, count, x, y) =>
        {
            data.CopyInputs(start, count, x);
            for (var i = 0; i < count * width; i++)
            {
                y[i] = T.CreateChecked(targets[(start * width) + i]);
            }
        });
    }

    private delegate void CopyRows(int start, int count, Span<T> inputs, Span<T> targets);

    private Evaluation Run(Shape inputShape, Shape targetShape, ConfusionMatrix? confusion, int[]? predictions, double[]? confidences, CopyRows copy)
    {
        var rows = inputShape.Rows;
        if (rows == 0)
        {
            throw new BackpropException("There are no rows to evaluate.");
        }
        // Evaluation mode (Dropout off, BatchNorm's running statistics), restored afterwards; the chunks'
        // graphs are recorded and replayed in it.
        using var mode = Model.InMode(training: false);
        var classification = Loss.IsClassification;
        double total = 0;
        long correct = 0;
        var regression = classification ? null : new RegressionMetrics.Accumulator();
        for (var start = 0; start < rows; start += ChunkRows)
        {
            var count = Math.Min(ChunkRows, rows - start);
            var chunk = ChunkOf(count, inputShape, targetShape);
            copy(start, count, chunk.Inputs.Data, chunk.Targets.Data);
            var loss = chunk.Run(this);
            total += Loss.SumsOverRows ? loss : loss * count;
            if (classification)
            {
                correct += ConfusionMatrix.Count(chunk.Outputs!.Data, chunk.Targets.Data, count, confusion, predictions.AsSpan(predictions is null ? 0 : start));
                if (confidences is not null)
                {
                    LargestProbabilities(chunk.Outputs!.Data, count, confidences.AsSpan(start, count));
                }
            }
            else if (chunk.Outputs is { } outputs && outputs.Length == chunk.Targets.Length)
            {
                var predicted = outputs.Data;
                var observed = chunk.Targets.Data;
                for (var i = 0; i < predicted.Length; i++)
                {
                    regression!.Add(double.CreateChecked(predicted[i]), double.CreateChecked(observed[i]));
                }
            }
        }
        return new Evaluation(Loss.SumsOverRows ? total : total / rows, classification ? (double)correct / rows : null, rows)
        {
            Regression = regression?.Result() is { Count: > 0 } metrics ? metrics : null,
        };
    }

    // The softmax probability of each row's largest score: 1 / Σ_j e^(z_j − max z), which cannot overflow.
    private static void LargestProbabilities(ReadOnlySpan<T> logits, int rows, Span<double> destination)
    {
        var width = logits.Length / rows;
        for (var r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * width, width);
            var max = double.NegativeInfinity;
            foreach (var z in row)
            {
                max = Math.Max(max, double.CreateChecked(z));
            }
            var sum = 0.0;
            foreach (var z in row)
            {
                sum += Math.Exp(double.CreateChecked(z) - max);
            }
            destination[r] = 1 / sum;
        }
    }

    private Chunk ChunkOf(int count, Shape inputShape, Shape targetShape)
    {
        if (!chunks.TryGetValue(count, out var chunk) || !SameExample(chunk.Inputs.Shape, inputShape))
        {
            var dims = targetShape.ToArray();
            dims[0] = count;
            var inputDims = inputShape.ToArray();
            inputDims[0] = count;
            chunk = new Chunk(new Tensor<T>(new Shape(inputDims)), new Tensor<T>(new Shape(dims)));
            chunks[count] = chunk;
        }
        return chunk;
    }

    // Whether two batches hold examples of the same shape (all but the first dimension equal).
    private static bool SameExample(Shape a, Shape b)
    {
        if (a.Rank != b.Rank)
        {
            return false;
        }
        for (var axis = 1; axis < a.Rank; axis++)
        {
            if (a[axis] != b[axis])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>One chunk size's input and target tensors and, once recorded, its forward pass.</summary>
    private sealed class Chunk(Tensor<T> inputs, Tensor<T> targets)
    {
        private Graph<T>? graph;
        private Tensor<T>? loss;

        public Tensor<T> Inputs { get; } = inputs;

        public Tensor<T> Targets { get; } = targets;

        public Tensor<T>? Outputs { get; private set; }

        public double Run(Evaluator<T> evaluator)
        {
            if (graph is not null)
            {
                graph.Forward();
                return double.CreateChecked(loss!.Item());
            }
            Outputs = evaluator.Model.Forward(Inputs);
            loss = evaluator.Loss.Compute(Outputs, Targets);
            // Recorded only when gradients are on (not inside a no-grad scope); otherwise computed afresh each time.
            if (loss.Creator is not null)
            {
                graph = new Graph<T>(loss);
            }
            return double.CreateChecked(loss.Item());
        }
    }
}
