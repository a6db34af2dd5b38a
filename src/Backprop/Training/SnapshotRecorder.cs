using System.Numerics;
using Backprop.Autograd;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// The state of training after <see cref="Step"/> updates, as a <see cref="SnapshotRecorder{T}"/> kept it.
/// </summary>
/// <param name="Step">Updates made so far: 0 is the starting values.</param>
/// <param name="Loss">The loss at these values (the loss of the next step's forward pass; the final loss for the last snapshot).</param>
/// <param name="Values">The recorded numbers' values, in <see cref="SnapshotRecorder{T}.ValueNames"/> order.</param>
/// <param name="GradientNorms">
/// The gradient norms of the backward pass that led here, in <see cref="SnapshotRecorder{T}.GradientGroups"/>
/// order; empty for step 0.
/// </param>
/// <param name="Outputs">The network's outputs on the probe inputs, row-major; empty without a probe.</param>
public sealed record TrainingSnapshot(int Step, double Loss, double[] Values, double[] GradientNorms, double[] Outputs);

/// <summary>
/// Records snapshots of training every <see cref="Interval"/> steps: the parameters, the loss, the
/// gradient norm of each layer (of each number for small networks) and the network's outputs on
/// probe inputs — what pictures of training and the HTML report are drawn from.
/// </summary>
/// <remarks>
/// The interval starts at 1 and doubles whenever more than <c>maxSnapshots</c> would be kept (every
/// other snapshot is then dropped), so a run of any length keeps between maxSnapshots/2 and
/// maxSnapshots of them, evenly spaced, plus the start, the first step and the end. Steps between snapshots cost a
/// comparison and nothing else.
/// </remarks>
public sealed class SnapshotRecorder<T> : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Networks with at most this many numbers get one gradient norm per number rather than per layer.</summary>
    public const int PerNumberGradientLimit = 12;

    private readonly Module<T> model;
    private readonly ParameterElement<T>[] recorded;
    private readonly Parameter<T>[][] groups;
    private readonly ParameterElement<T>[] perNumber;
    private readonly int maxSnapshots;
    private readonly List<(int Step, double[] Values, double[] GradientNorms, double[] Outputs)> kept = [];
    private double[]? pendingGradients;
    private TrainingSnapshot[] snapshots = [];

    /// <summary>Creates a recorder for <paramref name="model"/>.</summary>
    /// <param name="model">The network being trained.</param>
    /// <param name="probe">Inputs [rows, inputs] on which each snapshot records the network's outputs (e.g. a grid over the input range); null for none.</param>
    /// <param name="maxSnapshots">The most snapshots kept between start and end (at least 2).</param>
    /// <param name="maxValues">The most numbers whose values are recorded (the first ones, in storage order).</param>
    public SnapshotRecorder(Module<T> model, Tensor<T>? probe = null, int maxSnapshots = 200, int maxValues = 100)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSnapshots, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(maxValues);
        this.model = model;
        Probe = probe;
        this.maxSnapshots = maxSnapshots;
        var elements = model.Elements().ToArray();
        recorded = elements[..Math.Min(maxValues, elements.Length)];
        ValueNames = [.. recorded.Select(e => e.Name)];
        if (elements.Length <= PerNumberGradientLimit)
        {
            GradientGroups = [.. elements.Select(e => e.Name)];
            groups = [];
        }
        else
        {
            var layers = model.Children().Select(c => c.Parameters().ToArray()).Where(p => p.Length > 0).ToArray();
            groups = layers.Length > 0 ? layers : [.. model.Parameters().Select(p => new[] { p })];
            GradientGroups = [.. groups.Select(g => g.Length == 1 ? g[0].Name! : LayerName(g[0].Name!))];
        }
        perNumber = groups.Length == 0 ? elements : [];
    }

    /// <summary>The probe inputs, or null.</summary>
    public Tensor<T>? Probe { get; }

    /// <summary>Names of the numbers whose values are recorded.</summary>
    public IReadOnlyList<string> ValueNames { get; }

    /// <summary>What each gradient norm measures: a number's name (small networks) or a layer's (<c>layer0</c>).</summary>
    public IReadOnlyList<string> GradientGroups { get; }

    /// <summary>Steps between snapshots now.</summary>
    public int Interval { get; private set; } = 1;

    /// <summary>The snapshots of the last training run, from the start to the end; empty until it ends.</summary>
    public IReadOnlyList<TrainingSnapshot> Snapshots => snapshots;

    /// <summary>The result of the last training run, or null until it ends.</summary>
    public TrainingResult? Result { get; private set; }

    /// <inheritdoc/>
    public override void OnStart(Trainer<T> trainer, double initialLoss)
    {
        kept.Clear();
        snapshots = [];
        Result = null;
        Interval = 1;
        kept.Add((0, Values(), [], Outputs()));
    }

    /// <inheritdoc/>
    public override void OnGradients(Trainer<T> trainer, int step, double loss, Graph<T> graph)
    {
        if (step % Interval == 0)
        {
            pendingGradients = GradientNorms();
        }
    }

    /// <inheritdoc/>
    public override void OnStep(Trainer<T> trainer, in StepInfo info)
    {
        if (info.Step % Interval != 0)
        {
            return;
        }
        kept.Add((info.Step, Values(), pendingGradients ?? [], Outputs()));
        pendingGradients = null;
        if (kept.Count > maxSnapshots + 1)
        {
            Interval *= 2;
            // NOTE: step 1 stays: its gradients are those at the starting values, often the largest
            // of the run (the lesson's early spike), and a gradients picture should start there.
            kept.RemoveAll(s => s.Step % Interval != 0 && s.Step != 1);
        }
    }

    /// <inheritdoc/>
    public override void OnEnd(Trainer<T> trainer, TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (kept[^1].Step != result.Steps)
        {
            // The parameters still hold the gradients of the last backward pass.
            kept.Add((result.Steps, Values(), GradientNorms(), Outputs()));
        }
        var history = result.LossHistory;
        snapshots = [.. kept.Select((s, i) => new TrainingSnapshot(
            s.Step,
            i == kept.Count - 1 ? result.FinalLoss : s.Step == 0 ? result.InitialLoss : s.Step < history.Count ? history[s.Step] : result.FinalLoss,
            s.Values,
            s.GradientNorms,
            s.Outputs))];
        kept.Clear();
        Result = result;
    }

    private double[] Values()
    {
        var values = new double[recorded.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = double.CreateChecked(recorded[i].Value);
        }
        return values;
    }

    private double[] GradientNorms()
    {
        if (groups.Length == 0)
        {
            var norms = new double[perNumber.Length];
            for (var i = 0; i < norms.Length; i++)
            {
                norms[i] = Math.Abs(double.CreateChecked(perNumber[i].Gradient));
            }
            return norms;
        }
        var result = new double[groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            var sum = 0.0;
            foreach (var p in groups[g])
            {
                if (p.Grad is { } grad)
                {
                    foreach (var v in grad.Data)
                    {
                        var d = double.CreateChecked(v);
                        sum += d * d;
                    }
                }
            }
            result[g] = Math.Sqrt(sum);
        }
        return result;
    }

    private double[] Outputs() => Probe is null ? [] : model.Predict(Probe).ToDoubleArray();

    // layer0.weight → layer0
    private static string LayerName(string parameterName)
        => parameterName.LastIndexOf('.') is > 0 and var dot ? parameterName[..dot] : parameterName;
}
