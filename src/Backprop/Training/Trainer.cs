using System.Globalization;
using System.Numerics;
using Backprop.Autograd;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// Trains a network by back-propagation: each step runs the forward pass, the loss, the backward
/// pass and one optimizer update of every trained number, until a stopping rule holds.
/// </summary>
/// <remarks>
/// The step's graph is recorded once per batch size and replayed (<see cref="Graph{T}"/>), so after
/// the first step a training step allocates nothing.
/// </remarks>
public sealed class Trainer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a trainer for <paramref name="model"/>.</summary>
    public Trainer(Module<T> model, Loss loss, Optimizer<T> optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        Model = model;
        Loss = loss;
        Optimizer = optimizer;
    }

    /// <summary>The network being trained.</summary>
    public Module<T> Model { get; }

    /// <summary>The loss minimised.</summary>
    public Loss Loss { get; }

    /// <summary>The update rule.</summary>
    public Optimizer<T> Optimizer { get; }

    /// <summary>
    /// Data-parallel training: this process computes only its share of every batch
    /// (<see cref="Training.DataParallel.Shard"/>), and the loss and gradients are summed over the processes
    /// before anything is decided or updated, so that every process takes the same step. Null (the default)
    /// trains on this process alone.
    /// </summary>
    /// <remarks>
    /// A mean-reduced loss's gradient is weighted by (share rows / batch rows) before the sum, a summed
    /// loss's (SSR, <see cref="Loss.SumsOverRows"/>) by 1, so that the sum is the whole batch's gradient.
    /// </remarks>
    public IDataParallel<T>? DataParallel { get; set; }

    /// <summary>
    /// The loss of the model on <paramref name="inputs"/> against <paramref name="targets"/>, in evaluation
    /// mode (<see cref="Module{T}.Eval"/>, the model's mode restored afterwards) and without recording gradients. More than <see cref="EvaluationChunkRows"/> rows are scored in chunks
    /// (<see cref="Evaluator{T}"/>), so a large dataset never needs the memory of all its rows at once.
    /// </summary>
    public double Evaluate(Tensor<T> inputs, Tensor<T> targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Shape.Rank >= 2 && inputs.Shape.Rows > EvaluationChunkRows)
        {
            return Evaluator.Evaluate(inputs, targets).Loss;
        }
        using var mode = Model.InMode(training: false);
        using var scope = GradMode.NoGrad();
        return double.CreateChecked(Loss.Compute(Model.Forward(inputs), targets).Item());
    }

    /// <summary>The most rows <see cref="Evaluate"/> and <see cref="Evaluator"/> score in one pass.</summary>
    public const int EvaluationChunkRows = 256;

    /// <summary>
    /// Scores the model in chunks of <see cref="EvaluationChunkRows"/> rows; shared by everything that
    /// scores this trainer's model (monitors too), so its recorded chunks exist once.
    /// </summary>
    public Evaluator<T> Evaluator => evaluator ??= new Evaluator<T>(Model, Loss, EvaluationChunkRows);

    private Evaluator<T>? evaluator;

    /// <summary>
    /// Trains until a stopping rule holds: every step size below <see cref="TrainingOptions.MinStepSize"/>,
    /// the loss at or below <see cref="TrainingOptions.TargetLoss"/>, or <see cref="TrainingOptions.MaxSteps"/> steps.
    /// </summary>
    /// <param name="inputs">[rows, inputs], or a batch of examples of any shape [rows, …] (images [rows, C, H, W]).</param>
    /// <param name="targets">[rows, outputs], or class indices for cross-entropy.</param>
    /// <param name="options">Stopping rules and batching; null for the lesson's defaults.</param>
    /// <param name="onStep">Called after every step.</param>
    public TrainingResult Fit(Tensor<T> inputs, Tensor<T> targets, TrainingOptions? options = null, Action<StepInfo>? onStep = null)
        => Fit(inputs, targets, options, onStep is null ? [] : [new CallbackMonitor(onStep)]);

    /// <summary>
    /// Trains as <see cref="Fit(Tensor{T}, Tensor{T}, TrainingOptions?, Action{StepInfo}?)"/> does,
    /// calling each of <paramref name="monitors"/> at the start, after each backward pass, after each
    /// step, after each epoch and at the end.
    /// </summary>
    public TrainingResult Fit(Tensor<T> inputs, Tensor<T> targets, TrainingOptions? options, IReadOnlyList<TrainingMonitor<T>> monitors)
        => Fit(inputs, targets, options, monitors, null);

    /// <summary>
    /// Trains as <see cref="Fit(Tensor{T}, Tensor{T}, TrainingOptions?, IReadOnlyList{TrainingMonitor{T}})"/> does;
    /// with <paramref name="resumeFrom"/>, continues that run (same data, options and network) where
    /// its state was taken, so that the final parameters are the bits an uninterrupted run would give.
    /// </summary>
    /// <exception cref="BackpropException">The state does not fit this network, optimizer or data.</exception>
    public TrainingResult Fit(Tensor<T> inputs, Tensor<T> targets, TrainingOptions? options, IReadOnlyList<TrainingMonitor<T>> monitors, TrainingState<T>? resumeFrom)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        // NOTE: an array, because foreach over an IReadOnlyList allocates an enumerator on every step.
        var watchers = monitors.ToArray();
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        options ??= new TrainingOptions();
        options.Validate();
        var rows = inputs.Shape.Rows;
        if (inputs.Shape.Rank < 2 || targets.Shape.Rank is < 1 or > 2 || targets.Shape[0] != rows)
        {
            throw new BackpropException($"Inputs {inputs.Shape} and targets {targets.Shape} must be matrices with the same number of rows.");
        }
        // Training mode for the steps (Dropout drops, BatchNorm uses batch statistics); the mode the
        // model had is restored at the end. Evaluations in between switch to evaluation mode and back.
        using var mode = Model.InMode(training: true);
        var batchSize = Math.Min(options.BatchSize ?? rows, rows);
        var parallel = DataParallel is { Size: > 1 } p ? p : null;
        if (parallel is not null && (batchSize < parallel.Size || rows % batchSize is > 0 and var last && last < parallel.Size))
        {
            throw new BackpropException($"With {parallel.Size} processes every batch needs at least {parallel.Size} rows (one per process); batches of {batchSize} rows of {rows} leave {(batchSize < parallel.Size ? batchSize : rows % batchSize)} rows in a batch.");
        }
        var run = new Run(new BatchSource(inputs, targets, batchSize, options.ShuffleSeed, parallel), new LossHistory());
        if (resumeFrom is not null)
        {
            Restore(run, resumeFrom, rows);
        }
        else
        {
            run.InitialLoss = Evaluate(inputs, targets);
        }
        current = run;
        run.Watchers = watchers;
        stopRequest = null;
        foreach (var m in watchers)
        {
            m.OnStart(this, run.InitialLoss);
        }
        if (resumeFrom is not null)
        {
            RestoreMonitors(watchers, resumeFrom);
        }
        while (run.Steps < options.MaxSteps && run.Reason is null)
        {
            var step = run.Batches.Next(this);
            var loss = double.CreateChecked(step.Root.Item());
            // The share's weight in the batch's loss and gradient: rows / batch rows for a mean, 1 for a sum.
            var weight = Loss.SumsOverRows ? 1.0 : (double)run.Batches.ShareRows / run.Batches.BatchRows;
            if (parallel is not null)
            {
                loss = parallel.Sum(weight * loss);
            }
            if (!double.IsFinite(loss))
            {
                stopRequest = (StopReason.Diverged, DescribeDivergence(step, run.Steps + 1, loss));
                break;
            }
            run.History.Add(loss);
            if (loss <= options.TargetLoss)
            {
                run.Reason = StopReason.TargetLoss;
                break;
            }
            Optimizer.ZeroGrad();
            step.Backward();
            parallel?.SumGradients(Optimizer.Parameters, T.CreateChecked(weight));
            foreach (var m in watchers)
            {
                m.OnGradients(this, run.Steps + 1, loss, step);
            }
            if (stopRequest is not null)
            {
                break;
            }
            Optimizer.Step();
            if (Optimizer.LastStepSkipped)
            {
                // A NaN or ∞ gradient (or a step that would overflow): nothing was changed.
                stopRequest = (StopReason.Diverged, DescribeSkippedStep(step, run.Steps + 1));
                break;
            }
            run.Steps++;
            var info = new StepInfo(run.Steps, run.Epoch, loss, Optimizer.LastMaxStepSize);
            foreach (var m in watchers)
            {
                m.OnStep(this, info);
            }
            if (run.Batches.EpochEnded)
            {
                foreach (var m in watchers)
                {
                    m.OnEpochEnd(this, run.Epoch);
                }
                if (run.Epoch == options.Epochs)
                {
                    run.Reason = StopReason.Epochs;
                }
                run.Epoch++;
            }
            if (Optimizer.LastMaxStepSize < options.MinStepSize)
            {
                run.Reason ??= StopReason.StepSizeBelowThreshold;
            }
            foreach (var m in watchers)
            {
                m.OnStepEnd(this, run.Steps);
            }
            if (stopRequest is not null)
            {
                break;
            }
        }
        if (stopRequest is { Reason: StopReason.Interrupted } && (run.Reason is not null || run.Steps >= options.MaxSteps))
        {
            // Interrupted on the step that finished the run anyway: it finished.
            stopRequest = null;
        }
        var finalReason = run.Reason ?? StopReason.MaxSteps;
        var (stop, message) = stopRequest ?? (finalReason, Describe(finalReason, options));
        var result = new TrainingResult(run.Steps, stop, message, run.InitialLoss, Evaluate(inputs, targets), run.History);
        foreach (var m in watchers)
        {
            m.OnEnd(this, result);
        }
        return result;
    }

    private Run? current;

    /// <summary>
    /// The epoch in progress (1 for the first) of the run in progress, or of the last run; 0 before any.
    /// In <see cref="TrainingMonitor{T}.OnEpochEnd"/> it is the epoch that ended; epochs completed at
    /// <see cref="TrainingMonitor{T}.OnStart"/> are one fewer (more than 0 on a resumed run).
    /// </summary>
    public int Epoch => current?.Epoch ?? 0;

    /// <summary>
    /// The state of the run in progress (from <see cref="TrainingMonitor{T}.OnStepEnd"/>) or of the last
    /// run (after <c>Fit</c> returns): everything needed to resume it exactly.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing has been trained yet.</exception>
    public TrainingState<T> CaptureState()
    {
        var run = current ?? throw new InvalidOperationException("Nothing has been trained yet: there is no state to capture.");
        return new TrainingState<T>
        {
            Steps = run.Steps,
            Epoch = run.Epoch,
            InitialLoss = run.InitialLoss,
            LossHistory = run.History.Clone(),
            ShuffleRng = run.Batches.Rng.State,
            ShuffleOrder = [.. run.Batches.Order],
            BatchPosition = run.Batches.Position,
            Finished = run.Reason,
            Optimizer = Optimizer.GetState(),
            Parameters = [.. Model.Parameters().Select(p => new KeyValuePair<string, T[]>(p.Name ?? "", p.Data.ToArray()))],
            Buffers = [.. Model.Buffers().Select(b => new KeyValuePair<string, T[]>(b.Name ?? "", b.Data.ToArray()))],
            Generators = [.. Model.Generators().Select(g => new KeyValuePair<string, RngState>(g.Key, g.Value.State))],
            Monitors = [.. StateNames(run.Watchers).Select(m => (m.Name, State: m.Monitor.SaveState(this))).Where(m => m.State is not null).Select(m => new KeyValuePair<string, MonitorState<T>>(m.Name, m.State!))],
        };
    }

    // Each monitor that keeps state, with its name made unique by order (NAME, NAME#2, …).
    private static List<(string Name, TrainingMonitor<T> Monitor)> StateNames(TrainingMonitor<T>[] watchers)
    {
        var named = new List<(string, TrainingMonitor<T>)>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in watchers)
        {
            if (m.StateName is { } name)
            {
                var n = seen[name] = seen.GetValueOrDefault(name) + 1;
                named.Add((n == 1 ? name : $"{name}#{n}", m));
            }
        }
        return named;
    }

    private void RestoreMonitors(TrainingMonitor<T>[] watchers, TrainingState<T> state)
    {
        foreach (var (name, monitor) in StateNames(watchers))
        {
            foreach (var (key, saved) in state.Monitors)
            {
                if (key == name)
                {
                    monitor.RestoreState(this, saved);
                    break;
                }
            }
        }
    }

    private void Restore(Run run, TrainingState<T> state, int rows)
    {
        var parameters = Model.Parameters().ToList();
        if (state.Parameters.Count != parameters.Count)
        {
            throw new BackpropException($"The saved state has {state.Parameters.Count} parameters; the network has {parameters.Count}.");
        }
        for (var i = 0; i < parameters.Count; i++)
        {
            var (name, values) = (state.Parameters[i].Key, state.Parameters[i].Value);
            if (name != (parameters[i].Name ?? "") || values.Length != parameters[i].Length)
            {
                throw new BackpropException($"The saved state's parameter {i + 1} is {name} with {values.Length} numbers; the network's is {parameters[i].Name} with {parameters[i].Length}.");
            }
        }
        var buffers = Model.Buffers().ToList();
        CheckNames("buffers", state.Buffers.Select(b => (b.Key, b.Value.Length)).ToList(), buffers.Select(b => (b.Name ?? "", b.Length)).ToList());
        var generators = Model.Generators().ToList();
        CheckNames("random generators", state.Generators.Select(g => (g.Key, 0)).ToList(), generators.Select(g => (g.Key, 0)).ToList());
        if (state.ShuffleOrder.Count != rows || !IsPermutation(state.ShuffleOrder))
        {
            throw new BackpropException($"The saved state's row order is not an order of the {rows} rows of this data.");
        }
        if (state.Steps < 0 || state.Epoch < 1 || state.BatchPosition < 0 || state.BatchPosition > rows || state.LossHistory.TotalCount > state.Steps + 1)
        {
            throw new BackpropException($"The saved state is inconsistent: step {state.Steps}, epoch {state.Epoch}, batch position {state.BatchPosition} of {rows} rows, {state.LossHistory.TotalCount} losses.");
        }
        Optimizer.SetState(state.Optimizer);
        for (var i = 0; i < parameters.Count; i++)
        {
            state.Parameters[i].Value.CopyTo(parameters[i].Data);
        }
        for (var i = 0; i < buffers.Count; i++)
        {
            state.Buffers[i].Value.CopyTo(buffers[i].Data);
        }
        for (var i = 0; i < generators.Count; i++)
        {
            generators[i].Value.State = state.Generators[i].Value;
        }
        run.Batches.Resume(new Rng(state.ShuffleRng), state.ShuffleOrder, state.BatchPosition);
        (run.Steps, run.Epoch, run.InitialLoss, run.Reason) = (state.Steps, state.Epoch, state.InitialLoss, state.Finished);
        run.History.CopyFrom(state.LossHistory);
    }

    // The saved state's buffers or generators must be the network's, by name and size, in order.
    private static void CheckNames(string what, List<(string Name, int Length)> saved, List<(string Name, int Length)> network)
    {
        if (saved.Count != network.Count)
        {
            throw new BackpropException($"The saved state has {saved.Count} {what}; the network has {network.Count}.");
        }
        for (var i = 0; i < saved.Count; i++)
        {
            if (saved[i] != network[i])
            {
                throw new BackpropException($"The saved state's {what} {i + 1} is {Describe(saved[i])}; the network's is {Describe(network[i])}.");
            }
        }
    }

    private static string Describe((string Name, int Length) item) => item.Length == 0 ? item.Name : $"{item.Name} with {item.Length} numbers";

    private static bool IsPermutation(IReadOnlyList<int> order)
    {
        var seen = new bool[order.Count];
        foreach (var i in order)
        {
            if ((uint)i >= (uint)seen.Length || seen[i])
            {
                return false;
            }
            seen[i] = true;
        }
        return true;
    }

    private string DescribeSkippedStep(Graph<T> graph, int step)
    {
        foreach (var p in Optimizer.Parameters)
        {
            if (p.Grad is not { } grad)
            {
                continue;
            }
            for (var i = 0; i < grad.Length; i++)
            {
                if (p.Trainable[i] && !T.IsFinite(grad.Data[i]))
                {
                    var where = graph.FirstNonFiniteGradient() is { } op ? $"; it first appeared in the backward pass of {graph.Describe(op.Op, op.Index)}" : "";
                    return $"the gradient of {p.ElementNames[i]} became {(T.IsNaN(grad.Data[i]) ? "NaN" : "infinite")} in step {step}{where}; training stopped before this step's update, keeping the last finite parameters";
                }
            }
        }
        // Every gradient is finite: the update would have made a number (or the rule's state) NaN or infinite.
        var cause = Optimizer.Name == "gd" ? "learning rate × derivative overflowed" : $"{Optimizer.Name}'s update overflowed";
        if (Optimizer.LastOverflow is { } overflow)
        {
            var element = Optimizer.Parameters[overflow.Parameter].ElementNames[overflow.Index];
            var what = overflow.StateKind is { } kind ? $"{Optimizer.Name}'s {kind} of {element}" : element;
            return $"the update of step {step} would make {what} {(overflow.IsNaN ? "NaN" : "infinite")} ({cause}); training stopped before this update, keeping the last finite parameters (try a smaller learning rate)";
        }
        // A rule's CanUpdate refused the step: name the number with the largest gradient.
        var largest = Optimizer.Parameters.Where(p => p.Grad is not null)
            .SelectMany(p => Enumerable.Range(0, p.Length).Where(i => p.Trainable[i]).Select(i => (Name: p.ElementNames[i], Size: T.Abs(p.Grad!.Data[i]))))
            .MaxBy(e => e.Size).Name;
        return $"the update of step {step} was refused by {Optimizer.Name} for {largest}; training stopped before this update, keeping the last finite parameters";
    }

    /// <summary>A run's counters and history, kept so that <see cref="CaptureState"/> can read them.</summary>
    private sealed class Run(BatchSource batches, LossHistory history)
    {
        public BatchSource Batches { get; } = batches;

        public LossHistory History { get; } = history;

        public int Steps { get; set; }

        public int Epoch { get; set; } = 1;

        public double InitialLoss { get; set; }

        public StopReason? Reason { get; set; }

        /// <summary>The run's monitors, whose states <see cref="CaptureState"/> saves.</summary>
        public TrainingMonitor<T>[] Watchers { get; set; } = [];
    }

    private (StopReason Reason, string Message)? stopRequest;

    /// <summary>The reason of a stop a monitor has asked for during this run (<see cref="RequestStop"/>), or null.</summary>
    public StopReason? PendingStop => stopRequest?.Reason;

    /// <summary>
    /// Stops training (called by a monitor): from <see cref="TrainingMonitor{T}.OnGradients"/> the
    /// step's update is skipped; from later calls training ends after the current step.
    /// </summary>
    public void RequestStop(StopReason reason, string message)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        stopRequest ??= (reason, message);
    }

    // Names where the first non-finite number appeared, so the user knows which operation blew up.
    private string DescribeDivergence(Graph<T> graph, int step, double loss)
    {
        var what = double.IsNaN(loss) ? "NaN" : "infinite";
        var where = graph.FirstNonFiniteOutput() is { } first ? $": it first appeared in {graph.Describe(first.Op, first.Index)}" : "";
        var elements = Model.Elements().ToList();
        if (elements.FirstOrDefault(e => !T.IsFinite(e.Value)) is { Parameter: not null } bad)
        {
            return $"the loss became {what} in step {step}{where}; the update of step {step - 1} had already made {bad.Name} {(T.IsNaN(bad.Value) ? "NaN" : "infinite")} (try a smaller learning rate, or train --monitor to stop before that)";
        }
        var large = elements.MaxBy(e => double.Abs(double.CreateChecked(e.Value)));
        var parameter = large.Parameter is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; the largest parameter is {large.Name} = {double.CreateChecked(large.Value):G6}");
        var kept = step == 1 ? "the starting values" : $"the values after step {step - 1}";
        return $"the loss became {what} in step {step}{where}{parameter}; the parameters are {kept} (try a smaller learning rate)";
    }

    private sealed class CallbackMonitor(Action<StepInfo> onStep) : TrainingMonitor<T>
    {
        public override void OnStep(Trainer<T> trainer, in StepInfo info) => onStep(info);
    }

    private static string Describe(StopReason reason, TrainingOptions options) => reason switch
    {
        StopReason.StepSizeBelowThreshold => string.Create(CultureInfo.InvariantCulture, $"every step size is below {options.MinStepSize}"),
        StopReason.TargetLoss => string.Create(CultureInfo.InvariantCulture, $"the loss reached the target {options.TargetLoss}"),
        StopReason.Diverged => "the loss became NaN or infinite (try a smaller learning rate)",
        StopReason.Interrupted => "interrupted",
        StopReason.Epochs => string.Create(CultureInfo.InvariantCulture, $"finished {options.Epochs} epoch{(options.Epochs == 1 ? "" : "s")}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"reached the maximum of {options.MaxSteps} steps"),
    };

    /// <summary>
    /// Hands out one recorded graph per step. Full batch: the same graph every step. Mini-batch:
    /// rows are shuffled each epoch and copied into the batch tensors of a graph recorded once per
    /// batch size (the last batch of an epoch may be smaller).
    /// </summary>
    private sealed class BatchSource(Tensor<T> inputs, Tensor<T> targets, int batchSize, ulong seed, IDataParallel<T>? parallel)
    {
        private readonly Dictionary<int, (Tensor<T> X, Tensor<T> Y, Graph<T> Graph)> graphs = [];
        private readonly int[] order = [.. Enumerable.Range(0, inputs.Shape.Rows)];
        private Rng rng = new(seed);
        private int position = int.MaxValue;

        /// <summary>The shuffling generator.</summary>
        public Rng Rng => rng;

        /// <summary>This epoch's order of the rows.</summary>
        public IReadOnlyList<int> Order => order;

        /// <summary>Rows of <see cref="Order"/> used so far this epoch (the row count once it has ended).</summary>
        public int Position => Math.Min(position, order.Length);

        /// <summary>Continues from a saved generator, order and position.</summary>
        public void Resume(Rng generator, IReadOnlyList<int> savedOrder, int savedPosition)
        {
            rng = generator;
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = savedOrder[i];
            }
            position = savedPosition;
        }
        private Graph<T>? fullBatch;

        /// <summary>Whether the batch handed out last was the last of its epoch.</summary>
        public bool EpochEnded => position >= order.Length;

        /// <summary>The rows of the batch handed out last (over every process, in data-parallel training).</summary>
        public int BatchRows { get; private set; } = 1;

        /// <summary>The rows of it this process computed (all of them, unless training is data-parallel).</summary>
        public int ShareRows { get; private set; } = 1;

        private (int Start, int Count) Share(int rows)
        {
            (BatchRows, ShareRows) = (rows, rows);
            if (parallel is null)
            {
                return (0, rows);
            }
            var share = Training.DataParallel.Shard(rows, parallel.Rank, parallel.Size);
            ShareRows = share.Count;
            return share;
        }

        public Graph<T> Next(Trainer<T> trainer)
        {
            var rows = order.Length;
            if (batchSize == rows)
            {
                var (start, count) = Share(rows);
                if (fullBatch is null && parallel is null)
                {
                    fullBatch = Record(trainer, inputs, targets);
                }
                else if (fullBatch is null)
                {
                    // This process's rows of the full batch, in their order (the data never changes, so they are copied once).
                    var x = new Tensor<T>(Reshaped(inputs.Shape, count));
                    var y = new Tensor<T>(Reshaped(targets.Shape, count));
                    Copy(x, y, start, count);
                    fullBatch = Record(trainer, x, y);
                }
                else
                {
                    fullBatch.Forward();
                }
                position = rows;
                return fullBatch;
            }
            if (position >= rows)
            {
                rng.Shuffle<int>(order);
                position = 0;
            }
            var size = Math.Min(batchSize, rows - position);
            var (first, rowCount) = Share(size);
            if (!graphs.TryGetValue(rowCount, out var batch))
            {
                var x = new Tensor<T>(Reshaped(inputs.Shape, rowCount));
                var y = new Tensor<T>(Reshaped(targets.Shape, rowCount));
                Copy(x, y, position + first, rowCount);
                batch = (x, y, Record(trainer, x, y));
                graphs[rowCount] = batch;
            }
            else
            {
                Copy(batch.X, batch.Y, position + first, rowCount);
                batch.Graph.Forward();
            }
            position += size;
            return batch.Graph;
        }

        // NOTE: a graph replays in the mode it was recorded in (Dropout and BatchNorm choose their
        // operation when recorded), so it is recorded in training mode even if a monitor left the model evaluating.
        private static Graph<T> Record(Trainer<T> trainer, Tensor<T> x, Tensor<T> y)
        {
            using var mode = trainer.Model.InMode(training: true);
            return new(trainer.Loss.Compute(trainer.Model.Forward(x), y));
        }

        private static Shape Reshaped(Shape shape, int rows)
        {
            var dims = shape.ToArray();
            dims[0] = rows;
            return new Shape(dims);
        }

        // Rows from..from+size of this epoch's order into the batch tensors.
        private void Copy(Tensor<T> x, Tensor<T> y, int from, int size)
        {
            int inWidth = inputs.Length / order.Length, outWidth = targets.Length / order.Length;
            for (var r = 0; r < size; r++)
            {
                var source = order[from + r];
                inputs.Data.Slice(source * inWidth, inWidth).CopyTo(x.Data.Slice(r * inWidth, inWidth));
                targets.Data.Slice(source * outWidth, outWidth).CopyTo(y.Data.Slice(r * outWidth, outWidth));
            }
        }
    }
}
