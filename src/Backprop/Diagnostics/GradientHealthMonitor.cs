using System.Globalization;
using System.Numerics;
using Backprop.Autograd;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Diagnostics;

/// <summary>Thresholds of <see cref="GradientHealthMonitor{T}"/>. The defaults suit networks trained in double or float.</summary>
public sealed record GradientHealthOptions
{
    /// <summary>A group's gradient norm below this counts as vanishing. Default 1e-6.</summary>
    public double VanishingThreshold { get; init; } = 1e-6;

    /// <summary>Warn when the norm stays below <see cref="VanishingThreshold"/> for this many consecutive steps. Default 10.</summary>
    public int VanishingSteps { get; init; } = 10;

    /// <summary>A group's gradient norm above this counts as exploding. Default 1e4.</summary>
    public double ExplodingThreshold { get; init; } = 1e4;

    /// <summary>A norm that grows by more than this factor from one step to the next counts as exploding. Default 100.</summary>
    public double GrowthFactor { get; init; } = 100;

    /// <summary>Networks with at most this many trained numbers are watched number by number; larger ones layer by layer. Default 16.</summary>
    public int PerNumberLimit { get; init; } = 16;

    /// <summary>Warn when at least this fraction of a ReLU layer's units output 0 for every row of a batch. Default 0.5.</summary>
    public double DeadReluFraction { get; init; } = 0.5;

    /// <summary>Checks the thresholds.</summary>
    /// <exception cref="BackpropException">A threshold is out of range.</exception>
    public void Validate()
    {
        if (!(VanishingThreshold >= 0) || !(ExplodingThreshold > VanishingThreshold) || !(GrowthFactor > 1) || VanishingSteps < 1
            || PerNumberLimit < 0 || !(DeadReluFraction is > 0 and <= 1))
        {
            throw new BackpropException("Gradient health thresholds: vanishing ≥ 0, exploding above it, growth factor above 1, at least 1 step, dead fraction in (0, 1].");
        }
    }
}

/// <summary>What a <see cref="GradientWarning"/> is about.</summary>
public enum GradientWarningKind
{
    /// <summary>The gradient norm stayed below the vanishing threshold.</summary>
    Vanishing,

    /// <summary>The gradient norm went above the exploding threshold, or grew by more than the growth factor in one step.</summary>
    Exploding,

    /// <summary>Many units of a ReLU layer output 0 for every row.</summary>
    DeadRelu,

    /// <summary>A gradient, a parameter or the loss became NaN or infinite; training stopped.</summary>
    NonFinite,
}

/// <summary>A problem the gradient health monitor found.</summary>
/// <param name="Step">The step it was found at.</param>
/// <param name="Kind">What kind of problem.</param>
/// <param name="Group">The layer or parameter it concerns.</param>
/// <param name="Message">The problem in words.</param>
public sealed record GradientWarning(int Step, GradientWarningKind Kind, string Group, string Message);

/// <summary>One layer's (or parameter's) gradient norms over the whole run.</summary>
/// <param name="Name">The layer (<c>layer0</c>) or number (<c>w1</c>).</param>
/// <param name="First">The norm at the first step.</param>
/// <param name="Last">The norm at the last step.</param>
/// <param name="Min">The smallest norm.</param>
/// <param name="Max">The largest norm.</param>
/// <param name="VanishingSteps">Steps with the norm below the vanishing threshold.</param>
/// <param name="Warnings">The kinds of warning raised for it.</param>
public sealed record GradientGroupSummary(string Name, double First, double Last, double Min, double Max, int VanishingSteps, IReadOnlyList<GradientWarningKind> Warnings);

/// <summary>One ReLU layer's dead units: the fraction of units that output 0 for every row of the batch.</summary>
/// <param name="Name">The layer (<c>layer0</c>).</param>
/// <param name="Units">Its number of units.</param>
/// <param name="Last">The fraction at the last step.</param>
/// <param name="Max">The largest fraction seen.</param>
public sealed record DeadReluSummary(string Name, int Units, double Last, double Max);

/// <summary>
/// Watches the gradients while training: the L2 norm of each layer's gradient (each number's, on small
/// networks) every step; warnings when gradients vanish or explode; the fraction of dead ReLU units;
/// and a stop, before any update, as soon as a gradient or a parameter is NaN or infinite — keeping the
/// last finite parameters and naming the parameter and the operation where it appeared.
/// </summary>
/// <remarks>
/// Only trained numbers are watched. The summary (first, last, smallest and largest norm, vanishing
/// steps) covers every step; the norms themselves are kept in bounded memory, as the loss history is:
/// every step up to <see cref="MaxKeptSteps"/>, then every k-th step with k doubling, and the latest
/// (see <see cref="RecordedSteps"/> and <see cref="NormsAt"/>).
/// </remarks>
public sealed class GradientHealthMonitor<T> : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly GradientHealthOptions options;
    private readonly List<(string Name, List<(Parameter<T> Parameter, int Index)> Numbers)> groups = [];
    private readonly List<double> norms = [];
    private readonly List<int> keptSteps = [];
    private bool hasTail;
    private int interval = 1;
    private double[] first = [], last = [], min = [], max = [];
    private readonly List<GradientWarning> warnings = [];
    private readonly List<(string Name, int Units, double Last, double Max)> relus = [];
    private int[] belowFor = [];
    private int[] vanishingSteps = [];
    private HashSet<(string Group, GradientWarningKind Kind)> warned = [];
    private T[] snapshot = [];
    private double[] current = [];
    private List<(Parameter<T> Parameter, int Index)> watched = [];

    /// <summary>Creates the monitor with the given thresholds (the defaults when null).</summary>
    public GradientHealthMonitor(GradientHealthOptions? options = null)
    {
        this.options = options ?? new GradientHealthOptions();
        this.options.Validate();
    }

    /// <summary>Called with each warning as it is raised (to print it while training runs).</summary>
    public Action<GradientWarning>? Warned { get; set; }

    /// <summary>The watched groups: layers (<c>layer0</c>), or numbers (<c>w1</c>) on small networks.</summary>
    public IReadOnlyList<string> Groups => [.. groups.Select(g => g.Name)];

    /// <summary>True when each trained number is watched on its own (small networks), false when layer by layer.</summary>
    public bool PerNumber { get; private set; }

    /// <summary>The most steps whose norms are kept on the grid of every k-th step (the latest is kept besides).</summary>
    public const int MaxKeptSteps = 4096;

    /// <summary>The number of steps whose gradients were seen.</summary>
    public int Steps { get; private set; }

    /// <summary>The steps whose norms are kept, in order: every step of a short run; of a long one every k-th (k a power of 2) and the last.</summary>
    public IReadOnlyList<int> RecordedSteps => keptSteps;

    /// <summary>The warnings raised, in order.</summary>
    public IReadOnlyList<GradientWarning> Warnings => warnings;

    /// <summary>The gradient norm of each group at step <paramref name="step"/> (from 1; one of <see cref="RecordedSteps"/>), in <see cref="Groups"/> order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step was not seen, or its norms were not kept.</exception>
    public IReadOnlyList<double> NormsAt(int step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(step, Steps);
        var row = keptSteps.BinarySearch(step);
        if (row < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"The norms of step {step} were not kept (a long run keeps every {interval}th step and the last; see RecordedSteps).");
        }
        return norms.GetRange(row * groups.Count, groups.Count);
    }

    /// <summary>Each group's norms over the run.</summary>
    public IReadOnlyList<GradientGroupSummary> Summary()
    {
        var result = new List<GradientGroupSummary>();
        for (var g = 0; g < groups.Count; g++)
        {
            var kinds = warnings.Where(w => w.Group == groups[g].Name).Select(w => w.Kind).Distinct().ToList();
            result.Add(Steps == 0
                ? new GradientGroupSummary(groups[g].Name, double.NaN, double.NaN, double.NaN, double.NaN, 0, kinds)
                : new GradientGroupSummary(groups[g].Name, first[g], last[g], min[g], max[g], vanishingSteps[g], kinds));
        }
        return result;
    }

    /// <summary>Each ReLU layer's dead units.</summary>
    public IReadOnlyList<DeadReluSummary> DeadRelus => [.. relus.Select(r => new DeadReluSummary(r.Name, r.Units, r.Last, r.Max))];

    /// <inheritdoc/>
    public override void OnStart(Trainer<T> trainer, double initialLoss)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        groups.Clear();
        norms.Clear();
        keptSteps.Clear();
        hasTail = false;
        interval = 1;
        Steps = 0;
        warnings.Clear();
        relus.Clear();
        warned = [];
        watched = [.. trainer.Model.Elements().Where(e => e.IsTrainable).Select(e => (e.Parameter, e.Index))];
        PerNumber = watched.Count <= options.PerNumberLimit;
        if (PerNumber)
        {
            // The lesson's network in the lesson's order (w1 b1 w2 b2 …), others in storage order.
            var numbers = watched.OrderBy(n => Lesson.ParameterNames.ToList().IndexOf(n.Parameter.ElementNames[n.Index]));
            groups.AddRange(numbers.Select(n => (n.Parameter.ElementNames[n.Index], new List<(Parameter<T>, int)> { n })));
        }
        else
        {
            foreach (var layer in watched.GroupBy(n => LayerOf(n.Parameter)))
            {
                groups.Add((layer.Key, layer.ToList()));
            }
        }
        belowFor = new int[groups.Count];
        vanishingSteps = new int[groups.Count];
        snapshot = new T[watched.Count];
        current = new double[groups.Count];
        first = new double[groups.Count];
        last = new double[groups.Count];
        min = new double[groups.Count];
        max = new double[groups.Count];
    }

    /// <inheritdoc/>
    public override void OnGradients(Trainer<T> trainer, int step, double loss, Graph<T> graph)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(graph);
        if (watched.FindIndex(n => !T.IsFinite(Gradient(n))) is var bad and >= 0)
        {
            var (p, i) = watched[bad];
            var where = graph.FirstNonFiniteGradient() is { } op ? $"; it first appeared in the backward pass of {graph.Describe(op.Op, op.Index)}"
                : graph.FirstNonFiniteOutput() is { } f ? $"; it first appeared in the forward pass at {graph.Describe(f.Op, f.Index)}" : "";
            var message = $"the gradient of {p.ElementNames[i]} became {(T.IsNaN(Gradient(watched[bad])) ? "NaN" : "infinite")} in step {step}{where}; training stopped before this step's update, keeping the last finite parameters";
            Warn(step, GradientWarningKind.NonFinite, GroupOf(watched[bad]), message);
            trainer.RequestStop(StopReason.Diverged, message);
            return;
        }
        for (var k = 0; k < watched.Count; k++)
        {
            snapshot[k] = watched[k].Parameter.Data[watched[k].Index];
        }
        for (var g = 0; g < groups.Count; g++)
        {
            var sum = 0.0;
            foreach (var n in groups[g].Numbers)
            {
                var v = double.CreateChecked(Gradient(n));
                sum += v * v;
            }
            current[g] = Math.Sqrt(sum);
        }
        var largest = 0;
        for (var g = 1; g < groups.Count; g++)
        {
            largest = current[g] > current[largest] ? g : largest;
        }
        var previousSeen = Steps > 0;
        Steps++;
        Keep(Steps);
        for (var g = 0; g < groups.Count; g++)
        {
            var norm = current[g];
            var previous = previousSeen ? last[g] : double.NaN;
            first[g] = previousSeen ? first[g] : norm;
            min[g] = previousSeen ? Math.Min(min[g], norm) : norm;
            max[g] = previousSeen ? Math.Max(max[g], norm) : norm;
            last[g] = norm;
            if (norm < options.VanishingThreshold)
            {
                vanishingSteps[g]++;
                if (++belowFor[g] == options.VanishingSteps)
                {
                    Warn(step, GradientWarningKind.Vanishing, groups[g].Name, Format(
                        $"{groups[g].Name}: vanishing gradients — the gradient norm has been below {options.VanishingThreshold} for {options.VanishingSteps} steps (since step {step - options.VanishingSteps + 1}; now {norm:G3}, while {groups[largest].Name}'s is {current[largest]:G3}), so it barely learns"));
                }
            }
            else
            {
                belowFor[g] = 0;
            }
            if (norm > options.ExplodingThreshold)
            {
                Warn(step, GradientWarningKind.Exploding, groups[g].Name, Format(
                    $"{groups[g].Name}: exploding gradients — the gradient norm is {norm:G3} at step {step}, above {options.ExplodingThreshold}"));
            }
            else if (previous >= options.VanishingThreshold && norm > options.GrowthFactor * previous)
            {
                Warn(step, GradientWarningKind.Exploding, groups[g].Name, Format(
                    $"{groups[g].Name}: exploding gradients — the gradient norm grew {norm / previous:G3}× in one step, from {previous:G3} to {norm:G3} at step {step}"));
            }
        }
        DeadUnits(step, graph);
    }

    // Keeps this step's norms (in `current`) when it is on the grid, or as the latest, dropping the
    // previous latest; past MaxKeptSteps the grid thins to every other kept step.
    private void Keep(int step)
    {
        var width = groups.Count;
        if (hasTail)
        {
            keptSteps.RemoveAt(keptSteps.Count - 1);
            norms.RemoveRange(norms.Count - width, width);
            hasTail = false;
        }
        hasTail = (step - 1) % interval != 0;
        keptSteps.Add(step);
        norms.AddRange(current);
        if (!hasTail && keptSteps.Count > MaxKeptSteps)
        {
            interval *= 2;
            var kept = 0;
            for (var row = 0; row < keptSteps.Count; row++)
            {
                if ((keptSteps[row] - 1) % interval == 0)
                {
                    keptSteps[kept] = keptSteps[row];
                    for (var g = 0; g < width; g++)
                    {
                        norms[(kept * width) + g] = norms[(row * width) + g];
                    }
                    kept++;
                }
            }
            keptSteps.RemoveRange(kept, keptSteps.Count - kept);
            norms.RemoveRange(kept * width, norms.Count - (kept * width));
        }
    }

    /// <inheritdoc/>
    public override void OnStep(Trainer<T> trainer, in StepInfo info)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (watched.FindIndex(n => !T.IsFinite(n.Parameter.Data[n.Index])) is var bad and >= 0)
        {
            var (p, i) = watched[bad];
            var what = T.IsNaN(p.Data[i]) ? "NaN" : "infinite";
            for (var k = 0; k < watched.Count; k++)
            {
                watched[k].Parameter.Data[watched[k].Index] = snapshot[k];
            }
            var message = $"the update of step {info.Step} made {p.ElementNames[i]} {what} (learning rate × derivative overflowed); training stopped and the parameters were put back to their finite values from before that update";
            Warn(info.Step, GradientWarningKind.NonFinite, GroupOf(watched[bad]), message);
            trainer.RequestStop(StopReason.Diverged, message);
        }
    }

    /// <inheritdoc/>
    public override void OnEnd(Trainer<T> trainer, TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.StopReason == StopReason.Diverged && !warnings.Exists(w => w.Kind == GradientWarningKind.NonFinite))
        {
            Warn(result.Steps + 1, GradientWarningKind.NonFinite, "loss", result.StopMessage);
        }
    }

    // A unit is dead for this batch when its ReLU outputs 0 for every row: no gradient reaches its weights.
    private void DeadUnits(int step, Graph<T> graph)
    {
        var k = 0;
        foreach (var op in graph.Operations)
        {
            // A ReLU is its own op ("relu") or fused into its Dense layer's op ("linear_relu").
            var fused = op.Name == "linear_relu";
            if ((op.Name != "relu" && !fused) || op.Output.Shape.Rank != 2)
            {
                continue;
            }
            var (rows, units) = (op.Output.Shape[0], op.Output.Shape[1]);
            var dead = 0;
            var y = op.Output.Data;
            for (var u = 0; u < units; u++)
            {
                var alive = false;
                for (var r = 0; r < rows && !alive; r++)
                {
                    alive = y[(r * units) + u] > T.Zero;
                }
                dead += alive ? 0 : 1;
            }
            var fraction = (double)dead / units;
            if (k == relus.Count)
            {
                var bias = (fused ? op.Inputs : op.Inputs[0].Creator?.Inputs)?.OfType<Parameter<T>>().FirstOrDefault();
                relus.Add((bias is null ? $"relu{k}" : LayerOf(bias), units, fraction, fraction));
            }
            var r0 = relus[k];
            relus[k] = (r0.Name, r0.Units, fraction, Math.Max(r0.Max, fraction));
            if (fraction >= options.DeadReluFraction)
            {
                Warn(step, GradientWarningKind.DeadRelu, r0.Name, Format(
                    $"{r0.Name}: {dead} of {units} ReLU units are dead at step {step} (they output 0 for every row, so their weights get no gradient)"));
            }
            k++;
        }
    }

    private void Warn(int step, GradientWarningKind kind, string group, string message)
    {
        if (!warned.Add((group, kind)))
        {
            return; // once per group and kind
        }
        var warning = new GradientWarning(step, kind, group, message);
        warnings.Add(warning);
        Warned?.Invoke(warning);
    }

    private string GroupOf((Parameter<T> Parameter, int Index) number)
        => groups.Find(g => g.Numbers.Contains(number)).Name ?? LayerOf(number.Parameter);

    private static T Gradient((Parameter<T> Parameter, int Index) n) => n.Parameter.Grad is { } g ? g[n.Index] : T.Zero;

    // layer0.weight → layer0; a parameter named without a dot is its own group.
    private static string LayerOf(Parameter<T> p)
    {
        var name = p.Name ?? "parameter";
        var dot = name.LastIndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }

    private static string Format(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
