using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>
/// Updates every trainable number of a set of parameters at once, from the gradients of the same
/// backward pass. Subclasses write only their update rule.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Numbers per task when a step is shared out between threads.</summary>
    private const int ChunkLength = 1 << 15;

    /// <summary>Fewest numbers in all for which a step is shared out between threads.</summary>
    private const int ParallelThreshold = 1 << 17;

    private readonly Parameter<T>[] parameters;
    private readonly T[] gradientMax;
    private readonly (int Parameter, int Start, int Count)[] chunks;
    private readonly T[] chunkMax;
    private readonly T[] chunkLargest;
    private readonly ChunkJob job;
    private readonly long totalLength;

    /// <summary>Creates the optimizer over <paramref name="parameters"/> with a positive, finite learning rate.</summary>
    protected Optimizer(IEnumerable<Parameter<T>> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CheckLearningRate(learningRate, nameof(learningRate));
        this.parameters = [.. parameters];
        gradientMax = new T[this.parameters.Length];
        LearningRate = learningRate;
        var pieces = new List<(int, int, int)>();
        for (var i = 0; i < this.parameters.Length; i++)
        {
            var length = this.parameters[i].Length;
            totalLength += length;
            for (var start = 0; start < length; start += ChunkLength)
            {
                pieces.Add((i, start, Math.Min(ChunkLength, length - start)));
            }
        }
        chunks = [.. pieces];
        chunkMax = new T[chunks.Length];
        chunkLargest = new T[chunks.Length];
        job = new ChunkJob(this);
    }

    /// <summary>
    /// The learning rate: a finite number, positive when the optimizer is made. It may be changed
    /// between steps (a schedule, or a monitor writing its own), to 0 as well (a cosine schedule ends
    /// there, as in PyTorch): every step reads it afresh.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            if (!(value >= 0 && double.IsFinite(value)))
            {
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "The learning rate must be a finite number ≥ 0.");
            }
            learningRate = value;
            Rate = T.CreateChecked(value);
        }
    }

    private double learningRate;

    private static void CheckLearningRate(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, "The learning rate must be a positive, finite number.");
        }
    }

    /// <summary>
    /// Weight decay λ ≥ 0 (0, the default, for none). Gradient descent and momentum add it to the
    /// gradient (L2: g ← g + λ·w, PyTorch's <c>weight_decay</c>); Adam decouples it (AdamW: w ← w·(1 − lr·λ)
    /// before Adam's step, Loshchilov &amp; Hutter 2019, PyTorch's <c>AdamW</c>). It applies to the
    /// parameters <see cref="IsDecayed"/> picks: weights, not biases, unless <see cref="DecayAllParameters"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double WeightDecay
    {
        get => weightDecay;
        set
        {
            if (!(value >= 0 && double.IsFinite(value)))
            {
                throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, "The weight decay must be a finite number ≥ 0.");
            }
            weightDecay = value;
        }
    }

    private double weightDecay;

    /// <summary>
    /// Whether <see cref="WeightDecay"/> applies to every parameter (PyTorch's default) rather than to
    /// weights only (the default here). A weight is a parameter of two or more dimensions (a dense
    /// layer's weight matrix, a convolution's kernels); biases and other one-dimensional parameters
    /// (BatchNorm's scale and shift) are not decayed, since shrinking them towards 0 only shifts the
    /// units' outputs and does not limit how sharply the network responds to its inputs.
    /// </summary>
    public bool DecayAllParameters { get; set; }

    /// <summary>Whether <see cref="WeightDecay"/> applies to parameter <paramref name="index"/> of <see cref="Parameters"/>.</summary>
    public bool IsDecayed(int index)
        => weightDecay > 0 && (DecayAllParameters || parameters[index].Shape.Rank >= 2);

    /// <summary>
    /// The largest global gradient norm a step uses (gradient clipping, PyTorch's <c>clip_grad_norm_</c>):
    /// before each update, when ‖g‖ = √(Σ g²) over every trained number of every parameter exceeds it, every
    /// gradient is multiplied by maxNorm/(‖g‖ + 10⁻⁶), in place. Null (the default) for no clipping.
    /// Clipping comes before weight decay, as in PyTorch where it is called before <c>step()</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public double? MaxGradientNorm
    {
        get => maxGradientNorm;
        set
        {
            if (value is { } v && !(v > 0 && double.IsFinite(v)))
            {
                throw new ArgumentOutOfRangeException(nameof(MaxGradientNorm), v, "The largest gradient norm must be a positive, finite number.");
            }
            maxGradientNorm = value;
        }
    }

    private double? maxGradientNorm;

    /// <summary>The global gradient norm of the last <see cref="Step"/> before clipping; NaN when <see cref="MaxGradientNorm"/> is null.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>Whether weight decay is decoupled from the gradient (Adam: AdamW) rather than added to it (L2).</summary>
    private protected virtual bool DecouplesWeightDecay => false;

    /// <summary>Clips the gradients (<see cref="MaxGradientNorm"/>), then adds the L2 weight decay to them.</summary>
    private void PrepareGradients()
    {
        if (maxGradientNorm is { } maxNorm)
        {
            LastGradientNorm = GradientClipping.ClipGlobalNorm(parameters, maxNorm);
        }
        if (weightDecay > 0 && !DecouplesWeightDecay)
        {
            var lambda = T.CreateChecked(weightDecay);
            for (var i = 0; i < parameters.Length; i++)
            {
                // g ← g + λ·w over the whole span: a fixed number's gradient is never applied anyway.
                if (IsDecayed(i) && parameters[i].Grad is { } grad)
                {
                    TensorPrimitives.MultiplyAdd(parameters[i].Data, lambda, grad.Data, grad.Data);
                }
            }
        }
    }

    /// <summary>The learning rate rounded to <typeparamref name="T"/> once, when it is set (what the update rules use).</summary>
    private protected T Rate { get; private set; }

    /// <summary>The parameters this optimizer updates.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => parameters;

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>The optimizer's name for <see cref="Create"/> (<c>gd</c>, <c>momentum</c>, <c>adam</c>); the class name for others.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>
    /// The largest step size of the last <see cref="Step"/>: max over trained numbers of |old − new|
    /// (for gradient descent, learning rate × |derivative|).
    /// </summary>
    public double LastMaxStepSize { get; private set; }

    /// <summary>Sets the gradient of every parameter to zero.</summary>
    public void ZeroGrad()
    {
        var threads = Parallelism.MaxDegreeOfParallelism;
        if (threads > 1 && totalLength >= ParallelThreshold && Array.TrueForAll(parameters, p => p.Grad is not null))
        {
            job.Phase = ChunkPhase.Zero;
            WorkerPool.Shared.Run(job, chunks.Length, threads);
            return;
        }
        foreach (var p in parameters)
        {
            p.ZeroGrad();
        }
    }

    /// <summary>
    /// Whether the last <see cref="Step"/> changed nothing because a trained number's gradient was NaN
    /// or infinite, or its step would have been (see <see cref="CanUpdate"/>): the parameters keep their last finite values.
    /// </summary>
    public bool LastStepSkipped { get; private set; }

    /// <summary>
    /// Applies one update to every trainable number, all from the current gradients. Numbers held
    /// fixed and parameters without a gradient are left as they are. When a trained number's gradient
    /// is NaN or infinite, nothing changes at all and <see cref="LastStepSkipped"/> says so.
    /// With <see cref="MaxGradientNorm"/> or an L2 <see cref="WeightDecay"/>, the gradients are first
    /// clipped and decayed in place (so after the step they hold what the rule used).
    /// </summary>
    public void Step()
    {
        PrepareGradients();
        var threads = Parallelism.MaxDegreeOfParallelism;
        if (threads > 1 && SupportsChunks && totalLength >= ParallelThreshold && EveryNumberTrained())
        {
            StepInChunks(threads);
            return;
        }
        // NOTE: every gradient is checked before any number changes, so a NaN or ∞ leaves every parameter
        // as it was. One vectorised pass; gradient descent reuses its result for the step size.
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.Grad is not { } grad || grad.Length == 0)
            {
                gradientMax[i] = T.Zero;
                continue;
            }
            var max = T.Abs(TensorPrimitives.MaxMagnitude<T>(grad.Data));
            gradientMax[i] = max;
            if (!MayUpdate(i, max))
            {
                LastStepSkipped = true;
                return;
            }
        }
        LastStepSkipped = false;
        StepCount++;
        BeginStep();
        var largest = 0.0;
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.Grad is not { } grad)
            {
                continue;
            }
            // A fully trained parameter of a built-in rule goes through the rule's span kernel in one
            // piece (what StepInChunks does a chunk at a time); others through Update, which skips fixed numbers.
            double size;
            if (SupportsChunks && p.IsFullyTrainable)
            {
                PrepareChunks(i);
                size = double.CreateChecked(UpdateChunk(i, p.Data, grad.Data, 0, gradientMax[i]));
            }
            else
            {
                size = Update(i, p.Data, grad.Data, p.Trainable);
            }
            largest = Math.Max(largest, size);
        }
        LastMaxStepSize = largest;
    }

    /// <summary>
    /// <see cref="Step"/> shared out between threads in chunks of the parameters: first the largest
    /// |gradient| of every chunk, then the update of every chunk. Every number gets the operations it
    /// gets in one piece (the rules are element by element, and a maximum does not depend on the order
    /// it is taken in), so the results are the same bits at any thread count.
    /// </summary>
    private void StepInChunks(int threads)
    {
        job.Phase = ChunkPhase.Check;
        WorkerPool.Shared.Run(job, chunks.Length, threads);
        Array.Fill(gradientMax, T.Zero);
        for (var c = 0; c < chunks.Length; c++)
        {
            ref var max = ref gradientMax[chunks[c].Parameter];
            max = T.Max(max, chunkMax[c]);
        }
        for (var i = 0; i < parameters.Length; i++)
        {
            if (!MayUpdate(i, gradientMax[i]))
            {
                LastStepSkipped = true;
                return;
            }
        }
        LastStepSkipped = false;
        StepCount++;
        BeginStep();
        for (var i = 0; i < parameters.Length; i++)
        {
            PrepareChunks(i);
        }
        job.Phase = ChunkPhase.Update;
        WorkerPool.Shared.Run(job, chunks.Length, threads);
        var largest = T.Zero;
        foreach (var size in chunkLargest)
        {
            largest = T.Max(largest, size);
        }
        LastMaxStepSize = double.CreateChecked(largest);
    }

    /// <summary>Whether parameter <paramref name="index"/>, with largest |gradient| <paramref name="max"/>, lets the step go ahead.</summary>
    private bool MayUpdate(int index, T max)
        => (T.IsFinite(max) || !HasNonFiniteTrained(parameters[index].Grad!.Data, parameters[index].Trainable)) && CanUpdate(index, max);

    private bool EveryNumberTrained()
    {
        foreach (var p in parameters)
        {
            if (p.Grad is null || !p.IsFullyTrainable)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether this rule can update a fully trained parameter a chunk at a time (<see cref="UpdateChunk"/>).</summary>
    private protected virtual bool SupportsChunks => false;

    /// <summary>Called for every parameter, on one thread, before the chunks of a step are updated (e.g. to create state arrays).</summary>
    private protected virtual void PrepareChunks(int index)
    {
    }

    /// <summary>
    /// Updates numbers [start, start + count) of parameter <paramref name="index"/>, every one of them
    /// trained, whose largest |gradient| is <paramref name="gradientMaxMagnitude"/>; returns the largest |step|.
    /// </summary>
    private protected virtual T UpdateChunk(int index, Span<T> values, ReadOnlySpan<T> gradients, int start, T gradientMaxMagnitude)
        => throw new NotSupportedException();

    private enum ChunkPhase
    {
        Check,
        Update,
        Zero,
    }

    /// <summary>The passes of <see cref="StepInChunks"/> and <see cref="ZeroGrad"/> as numbered tasks for the worker pool.</summary>
    private sealed class ChunkJob(Optimizer<T> owner) : IParallelJob
    {
        public ChunkPhase Phase { get; set; }

        public void Execute(int task)
        {
            var (index, start, count) = owner.chunks[task];
            var p = owner.parameters[index];
            var gradients = p.Grad!.Data.Slice(start, count);
            switch (Phase)
            {
                case ChunkPhase.Check:
                    owner.chunkMax[task] = T.Abs(TensorPrimitives.MaxMagnitude<T>(gradients));
                    break;
                case ChunkPhase.Update:
                    owner.chunkLargest[task] = owner.UpdateChunk(index, p.Data.Slice(start, count), gradients, start, owner.chunkMax[task]);
                    break;
                default:
                    gradients.Clear();
                    break;
            }
        }
    }

    private static bool HasNonFiniteTrained(ReadOnlySpan<T> gradients, ReadOnlySpan<bool> trainable)
    {
        for (var i = 0; i < gradients.Length; i++)
        {
            if (trainable[i] && !T.IsFinite(gradients[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether parameter <paramref name="index"/> may be updated, given its largest |gradient| (finite
    /// for every trained number); false skips the whole step. Gradient descent refuses a step that would overflow.
    /// </summary>
    protected virtual bool CanUpdate(int index, T gradientMaxMagnitude) => true;

    /// <summary>Called once at the start of every <see cref="Step"/>, before any update.</summary>
    protected virtual void BeginStep()
    {
    }

    /// <summary>
    /// Updates <paramref name="values"/> (parameter number <paramref name="index"/>) from
    /// <paramref name="gradients"/>, skipping numbers whose <paramref name="trainable"/> flag is false.
    /// Returns the largest |change| made.
    /// </summary>
    protected abstract double Update(int index, Span<T> values, ReadOnlySpan<T> gradients, ReadOnlySpan<bool> trainable);

    /// <summary>
    /// The state arrays an update rule keeps between steps, by kind (e.g. Adam's <c>m</c> and <c>v</c>),
    /// one slot per parameter; none for gradient descent.
    /// </summary>
    protected virtual IReadOnlyList<(string Kind, T[]?[] Store)> StateStores => [];

    /// <summary>
    /// A copy of everything the next steps depend on besides the parameters: the step count (Adam's
    /// bias correction), the last largest step size and the state arrays (momentum's velocities,
    /// Adam's moments), named <c>kind/parameter</c>.
    /// </summary>
    public OptimizerState<T> GetState()
    {
        var arrays = new List<KeyValuePair<string, T[]>>();
        foreach (var (kind, store) in StateStores)
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                if (store[i] is { } values)
                {
                    arrays.Add(new($"{kind}/{parameters[i].Name}", [.. values]));
                }
            }
        }
        return new OptimizerState<T>(Name, StepCount, LastMaxStepSize, arrays);
    }

    /// <summary>Continues from <paramref name="state"/>, taken from an optimizer of the same kind over parameters of the same names and sizes.</summary>
    /// <exception cref="BackpropException">The state is of another optimizer, or its arrays do not fit the parameters.</exception>
    public void SetState(OptimizerState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Name != Name)
        {
            throw new BackpropException($"The optimizer state is {state.Name}'s; this optimizer is {Name}.");
        }
        if (state.StepCount < 0)
        {
            throw new BackpropException($"The optimizer state's step count {state.StepCount} is negative.");
        }
        var stores = StateStores;
        var restored = stores.Select(s => new T[]?[parameters.Length]).ToArray();
        foreach (var (key, values) in state.Arrays)
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            var kind = slash < 0 ? -1 : stores.ToList().FindIndex(s => s.Kind == key[..slash]);
            var index = slash < 0 ? -1 : Array.FindIndex(parameters, p => p.Name == key[(slash + 1)..]);
            if (kind < 0 || index < 0)
            {
                throw new BackpropException($"The optimizer state has an array '{key}' that {Name} over these parameters does not keep.");
            }
            if (values.Length != parameters[index].Length)
            {
                throw new BackpropException($"The optimizer state's array '{key}' has {values.Length} numbers; the parameter has {parameters[index].Length}.");
            }
            restored[kind][index] = [.. values];
        }
        for (var k = 0; k < stores.Count; k++)
        {
            restored[k].CopyTo(stores[k].Store, 0);
        }
        StepCount = state.StepCount;
        LastMaxStepSize = state.LastMaxStepSize;
    }

    /// <summary>Per-parameter state arrays (velocities, moments), allocated on first use.</summary>
    protected T[] State(T[]?[] store, int index)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store[index] ??= new T[parameters[index].Length];
    }

    /// <summary>A state store with one slot per parameter.</summary>
    protected T[]?[] NewStateStore() => new T[]?[parameters.Length];

    /// <summary>An optimizer by name: <c>gd</c> (gradient descent), <c>momentum</c>, <c>adam</c>.</summary>
    /// <exception cref="BackpropException">The name is unknown.</exception>
    public static Optimizer<T> Create(string name, IEnumerable<Parameter<T>> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "GD" or "SGD" or "GRADIENT-DESCENT" => new GradientDescent<T>(parameters, learningRate),
            "MOMENTUM" => new Momentum<T>(parameters, learningRate),
            "ADAM" => new Adam<T>(parameters, learningRate),
            _ => throw new BackpropException($"Unknown optimizer '{name}'; choose one of gd, momentum, adam."),
        };
    }
}
