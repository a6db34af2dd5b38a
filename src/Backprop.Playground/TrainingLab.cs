using System.Globalization;
using System.Text.Json.Nodes;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Plotting;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Playground;

/// <summary>What a tab chose: data, network, loss, optimizer and their numbers.</summary>
public sealed record LabSettings(
    Dataset Data,
    IReadOnlyList<int> Hidden,
    Activation Activation,
    string Loss,
    string Optimizer,
    double LearningRate,
    int? BatchSize,
    ulong Seed)
{
    /// <summary>Reads a <c>setup</c> message; <paramref name="uploaded"/> is the tab's CSV data, if any.</summary>
    /// <exception cref="BackpropException">A setting is missing, unknown or out of bounds.</exception>
    public static LabSettings Read(JsonObject message, Dataset? uploaded)
    {
        ArgumentNullException.ThrowIfNull(message);
        var dataName = Messages.Text(message, "data");
        var seed = (ulong)Messages.Integer(message, "seed", 0, int.MaxValue, 1);
        var data = dataName == "csv"
            ? uploaded ?? throw new BackpropException("Upload a CSV file first.")
            : PlaygroundData.Generate(dataName, Messages.Integer(message, "samples", 4, TrainingLab.MaxRows, 200), Messages.Number(message, "noise", 0), seed);
        var hidden = Messages.Text(message, "layers", "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= TrainingLab.MaxUnits
                ? n : throw new BackpropException($"Each hidden layer needs 1 to {TrainingLab.MaxUnits} neurons; '{s}' is not that."))
            .ToList();
        if (hidden.Count > TrainingLab.MaxLayers)
        {
            throw new BackpropException($"At most {TrainingLab.MaxLayers} hidden layers.");
        }
        var activation = Activations.Parse(Messages.Text(message, "activation", "tanh"));
        var loss = data.IsClassification ? "cross-entropy" : Messages.Text(message, "loss", "mse");
        if (data.IsClassification ? loss != "cross-entropy" : loss is not ("mse" or "ssr"))
        {
            throw new BackpropException(data.IsClassification ? "Classes are learnt with cross-entropy." : $"Unknown loss '{loss}' for numbers; choose mse or ssr.");
        }
        var optimizer = Messages.Text(message, "optimizer", "gd");
        if (optimizer is not ("gd" or "momentum" or "adam"))
        {
            throw new BackpropException($"Unknown optimizer '{optimizer}'; choose gd, momentum or adam.");
        }
        var lr = Messages.Number(message, "lr", 0.03);
        if (!(lr > 0 && lr <= 10))
        {
            throw new BackpropException("The learning rate must be above 0 and at most 10.");
        }
        var batch = Messages.Integer(message, "batch", 0, TrainingLab.MaxRows, 0);
        return new LabSettings(data, hidden, activation, loss, optimizer, lr, batch == 0 ? null : batch, seed);
    }
}

/// <summary>
/// One tab's training run on the tensor engine: its network, optimizer and data, trained a few steps at a
/// time (each call continues the same run, exactly as one uninterrupted run would go), with what the page
/// draws: loss, accuracy, the decision boundary or fitted curve, each neuron's output, gradient norms.
/// </summary>
public sealed class TrainingLab
{
    /// <summary>The most hidden layers.</summary>
    public const int MaxLayers = 6;

    /// <summary>The most neurons in a layer.</summary>
    public const int MaxUnits = 16;

    /// <summary>The most data rows.</summary>
    public const int MaxRows = 2000;

    /// <summary>The most inputs a row may have.</summary>
    public const int MaxInputs = 32;

    /// <summary>The most steps one message may ask for.</summary>
    public const int MaxStepsPerMessage = 1000;

    /// <summary>The most steps a report re-runs.</summary>
    public const int MaxReportSteps = 50_000;

    /// <summary>Cells a side of the decision-boundary picture.</summary>
    public const int BoundarySide = 48;

    /// <summary>Cells a side of each neuron's picture.</summary>
    public const int NeuronSide = 16;

    private const int HistoryPoints = 400;

    private readonly Sequential<double> network;
    private readonly Loss loss;
    private readonly Trainer<double> trainer;
    private readonly Tensor<double> inputs;
    private readonly Tensor<double> targets;
    private readonly NormMonitor norms;
    private readonly List<double> lossHistory = [];
    private TrainingState<double>? state;
    private TrainingResult? last;

    /// <summary>Builds the network and optimizer for <paramref name="settings"/>.</summary>
    public TrainingLab(LabSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        CheckData(settings.Data);
        var outputs = settings.Data.IsClassification ? settings.Data.ClassNames!.Count : settings.Data.TargetCount;
        network = Sequential<double>.Mlp([settings.Data.InputCount, .. settings.Hidden, outputs], settings.Activation);
        Initializer.Create(settings.Activation == Activation.Relu ? "he" : "xavier", settings.Seed).Initialize(network);
        loss = Loss.Create(settings.Loss);
        Optimizer<double> optimizer = settings.Optimizer switch
        {
            "momentum" => new Momentum<double>(network.Parameters(), settings.LearningRate),
            "adam" => new Adam<double>(network.Parameters(), settings.LearningRate),
            _ => new GradientDescent<double>(network.Parameters(), settings.LearningRate),
        };
        trainer = new Trainer<double>(network, loss, optimizer);
        inputs = settings.Data.InputTensor<double>();
        targets = settings.Data.TargetTensor<double>();
        norms = new NormMonitor(network);
        InitialLoss = trainer.Evaluate(inputs, targets);
    }

    /// <summary>The settings this run was built from.</summary>
    public LabSettings Settings { get; }

    /// <summary>Steps taken so far.</summary>
    public int Steps => state?.Steps ?? 0;

    /// <summary>The loss on all the data before training.</summary>
    public double InitialLoss { get; }

    /// <summary>The network being trained.</summary>
    public Sequential<double> Network => network;

    /// <summary>Checks that data fits the playground's limits.</summary>
    /// <exception cref="BackpropException">Too many rows, inputs or classes.</exception>
    public static void CheckData(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count > MaxRows)
        {
            throw new BackpropException($"{data.Name} has {data.Count} rows; the playground takes at most {MaxRows}.");
        }
        if (data.InputCount > MaxInputs)
        {
            throw new BackpropException($"{data.Name} has {data.InputCount} input columns; the playground takes at most {MaxInputs}.");
        }
        if (data.TargetCount > 1 || data.ClassNames is { Count: > MaxUnits })
        {
            throw new BackpropException($"{data.Name} has more than one target or more than {MaxUnits} classes; the playground takes one target.");
        }
    }

    /// <summary>Trains <paramref name="steps"/> more steps (stopping early if the loss or a gradient stops being finite).</summary>
    public void Train(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if (steps == 0 || last?.StopReason == StopReason.Diverged)
        {
            return;
        }
        var options = new TrainingOptions
        {
            MaxSteps = Steps + steps,
            MinStepSize = null,
            BatchSize = Settings.BatchSize,
            ShuffleSeed = Settings.Seed,
        };
        // The loss history lives here, so the state carried from call to call stays small.
        last = trainer.Fit(inputs, targets, options, [norms], state is null ? null : state with { LossHistory = [] });
        state = trainer.CaptureState();
        lossHistory.AddRange(last.LossHistory);
        HalveWhenLong(lossHistory);
    }

    // Long runs keep every other number once a history passes 8,192: still evenly spaced over the steps.
    private static void HalveWhenLong<TItem>(List<TItem> history)
    {
        if (history.Count > 8192)
        {
            var kept = history.Where((_, i) => i % 2 == 0).ToList();
            history.Clear();
            history.AddRange(kept);
        }
    }

    /// <summary>What the page draws now, as JSON; the data's points too when <paramref name="withData"/>.</summary>
    public JsonObject View(bool withData = true)
    {
        var data = Settings.Data;
        var view = new JsonObject
        {
            ["steps"] = Steps,
            ["loss"] = last?.FinalLoss ?? InitialLoss,
            ["lossName"] = loss.DisplayName,
            ["network"] = network.Describe(),
            ["sizes"] = Messages.ToNode(network.Layers.OfType<Dense<double>>().Select(d => d.Outputs).Prepend(data.InputCount)),
            ["parameters"] = network.ParameterCount(),
            ["classification"] = data.IsClassification,
            ["stopped"] = last?.StopReason == StopReason.Diverged ? last.StopMessage : null,
            ["lossHistory"] = Messages.ToNode(Thin(lossHistory)),
            ["gradientGroups"] = Messages.ToNode(norms.Groups),
            ["gradientNorms"] = Messages.ToNode(norms.Thinned(HistoryPoints)),
        };
        if (data.IsClassification)
        {
            view["accuracy"] = Accuracy();
        }
        if (withData)
        {
            view["data"] = new JsonObject
            {
                ["name"] = data.Name,
                ["inputs"] = Messages.ToNode(data.InputNames),
                ["classes"] = Messages.ToNode(data.ClassNames),
                ["x"] = Messages.ToNode(data.Inputs.ToArray()),
                ["y"] = Messages.ToNode(data.Targets.ToArray()),
            };
        }
        if (data.InputCount == 2)
        {
            var (xRange, yRange) = (Domain(0), Domain(1));
            view["domain"] = Messages.ToNode(new[] { xRange, yRange });
            view["boundary"] = Messages.ToNode(Grid(xRange, yRange, BoundarySide, network.Layers.Count - 1, data.IsClassification));
            view["neurons"] = Messages.ToNode(NeuronPictures(xRange, yRange));
        }
        else if (data.InputCount == 1 && !data.IsClassification)
        {
            var domain = Domain(0);
            var xs = Enumerable.Range(0, 121).Select(i => domain[0] + ((domain[1] - domain[0]) * i / 120)).ToArray();
            view["curve"] = new JsonObject { ["x"] = Messages.ToNode(xs), ["y"] = Messages.ToNode(Forward(xs, 1).Data.ToArray()) };
        }
        return view;
    }

    /// <summary>
    /// Backpropagation's gradient of every number against central finite differences (in double, on at
    /// most the first 32 rows): the worst relative errors first.
    /// </summary>
    public object CheckGradients()
    {
        var rows = Math.Min(32, Settings.Data.Count);
        var x = Tensor<double>.FromArray(inputs.Data[..(rows * Settings.Data.InputCount)].ToArray(), rows, Settings.Data.InputCount);
        var y = targets.Shape.Rank == 1
            ? Tensor<double>.FromArray(targets.Data[..rows].ToArray(), rows)
            : Tensor<double>.FromArray(targets.Data[..(rows * targets.Shape[1])].ToArray(), rows, targets.Shape[1]);
        var comparisons = GradientCheck.Check(network, loss, x, y);
        network.ZeroGrad();
        return new
        {
            Rows = rows,
            Count = comparisons.Count,
            MaxRelativeError = comparisons.Max(c => c.RelativeError),
            Worst = comparisons.OrderByDescending(c => c.RelativeError).Take(12)
                .Select(c => new { c.Name, c.Backprop, c.Numerical, c.RelativeError }),
        };
    }

    /// <summary>The network as a model file (<c>backprop predict</c> reads it).</summary>
    public byte[] ModelFile()
    {
        var data = Settings.Data;
        var model = new Model<double>(network)
        {
            ClassNames = data.ClassNames,
            Metadata = last is null
                ? new ModelMetadata { Seed = Settings.Seed, DataName = data.Name, Loss = loss.Name, InputNames = data.InputNames }
                : ModelMetadata.FromTraining(last, data, loss, Settings.Seed),
        };
        return Serialization.ModelFile.ToBytes(model);
    }

    /// <summary>
    /// The offline HTML report of this run: the run is trained again from its start with a recorder for
    /// as many steps (training is deterministic, so it passes through the same numbers).
    /// </summary>
    /// <exception cref="BackpropException">The run has more steps than a report re-runs.</exception>
    public string Report()
    {
        if (Steps > MaxReportSteps)
        {
            throw new BackpropException($"A report re-runs at most {MaxReportSteps} steps; this run has {Steps}.");
        }
        var again = new TrainingLab(Settings);
        var data = Settings.Data;
        var recorder = new SnapshotRecorder<double>(again.network, TrainingRecord.Probe(data, data.IsClassification));
        again.trainer.Fit(again.inputs, again.targets, new TrainingOptions
        {
            MaxSteps = Math.Max(Steps, 1),
            MinStepSize = null,
            BatchSize = Settings.BatchSize,
            ShuffleSeed = Settings.Seed,
        }, [recorder]);
        var settings = new List<KeyValuePair<string, string>>
        {
            new("optimizer", Settings.Optimizer),
            new("learning rate", Settings.LearningRate.ToString(CultureInfo.InvariantCulture)),
            new("batch", Settings.BatchSize?.ToString(CultureInfo.InvariantCulture) ?? "all rows"),
            new("seed", Settings.Seed.ToString(CultureInfo.InvariantCulture)),
            new("made by", "backprop serve"),
        };
        return TrainingReportPage.Render(new TrainingRecord(data, recorder, loss.DisplayName, data.IsClassification, network.Describe(), settings));
    }

    private double Accuracy()
    {
        var outputs = Forward(inputs);
        var classes = outputs.Shape[1];
        var correct = 0;
        var o = outputs.Data;
        var t = targets.Data;
        for (var r = 0; r < outputs.Shape.Rows; r++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (o[(r * classes) + c] > o[(r * classes) + best])
                {
                    best = c;
                }
            }
            correct += best == (int)t[r] ? 1 : 0;
        }
        return (double)correct / outputs.Shape.Rows;
    }

    private double[] Domain(int column)
    {
        var (low, high) = (double.PositiveInfinity, double.NegativeInfinity);
        for (var r = 0; r < Settings.Data.Count; r++)
        {
            var v = Settings.Data.Input(r, column);
            (low, high) = (Math.Min(low, v), Math.Max(high, v));
        }
        var pad = Math.Max((high - low) * 0.05, 1e-3);
        return [low - pad, high + pad];
    }

    private Tensor<double> Forward(double[] rows, int columns) => Forward(Tensor<double>.FromArray(rows, rows.Length / columns, columns));

    private Tensor<double> Forward(Tensor<double> x, int? throughLayer = null)
    {
        using var scope = GradMode.NoGrad();
        var last = throughLayer ?? (network.Layers.Count - 1);
        for (var l = 0; l <= last; l++)
        {
            x = network.Layers[l].Forward(x);
        }
        return x;
    }

    // The output over a side × side grid: P(positive class) for two classes, the winning class for more, the value for regression.
    private double[] Grid(double[] xRange, double[] yRange, int side, int layer, bool classification)
    {
        var outputs = Forward(GridInputs(xRange, yRange, side), layer);
        var width = outputs.Shape[1];
        var o = outputs.Data;
        var grid = new double[side * side];
        for (var i = 0; i < grid.Length; i++)
        {
            if (!classification)
            {
                grid[i] = o[i * width];
            }
            else if (width == 2)
            {
                grid[i] = 1 / (1 + Math.Exp(o[i * 2] - o[(i * 2) + 1])); // softmax's second probability
            }
            else
            {
                var best = 0;
                for (var c = 1; c < width; c++)
                {
                    best = o[(i * width) + c] > o[(i * width) + best] ? c : best;
                }
                grid[i] = best;
            }
        }
        return grid;
    }

    // Each hidden neuron's output over a small grid: layer by layer, unit by unit.
    private double[][][] NeuronPictures(double[] xRange, double[] yRange)
    {
        var x = GridInputs(xRange, yRange, NeuronSide);
        var pictures = new List<double[][]>();
        using var scope = GradMode.NoGrad();
        for (var l = 0; l < network.Layers.Count - 1; l++)
        {
            x = network.Layers[l].Forward(x);
            var width = x.Shape[1];
            var units = new double[width][];
            for (var u = 0; u < width; u++)
            {
                units[u] = new double[NeuronSide * NeuronSide];
                for (var i = 0; i < units[u].Length; i++)
                {
                    units[u][i] = x.Data[(i * width) + u];
                }
            }
            pictures.Add(units);
        }
        return [.. pictures];
    }

    // Row by row from the lowest y, each row from the lowest x.
    private static Tensor<double> GridInputs(double[] xRange, double[] yRange, int side)
    {
        var grid = new double[side * side * 2];
        for (var r = 0; r < side; r++)
        {
            for (var c = 0; c < side; c++)
            {
                grid[2 * ((r * side) + c)] = xRange[0] + ((xRange[1] - xRange[0]) * (c + 0.5) / side);
                grid[(2 * ((r * side) + c)) + 1] = yRange[0] + ((yRange[1] - yRange[0]) * (r + 0.5) / side);
            }
        }
        return Tensor<double>.FromArray(grid, side * side, 2);
    }

    private static double[] Thin(List<double> values)
    {
        if (values.Count <= HistoryPoints)
        {
            return [.. values];
        }
        return [.. Enumerable.Range(0, HistoryPoints).Select(i => values[(int)((long)i * (values.Count - 1) / (HistoryPoints - 1))])];
    }

    /// <summary>Each layer's gradient norm √(Σ weight² + Σ bias²) at every step.</summary>
    private sealed class NormMonitor(Sequential<double> network) : TrainingMonitor<double>
    {
        private readonly Dense<double>[] layers = [.. network.Layers.OfType<Dense<double>>()];
        private readonly List<double[]> history = [];

        public IReadOnlyList<string> Groups => [.. layers.Select((_, i) => $"layer{i}")];

        public override void OnGradients(Trainer<double> trainer, int step, double loss, Graph<double> graph)
        {
            var row = new double[layers.Length];
            for (var l = 0; l < layers.Length; l++)
            {
                var sum = 0.0;
                foreach (var p in layers[l].Parameters())
                {
                    if (p.Grad is { } g)
                    {
                        foreach (var v in g.Data)
                        {
                            sum += v * v;
                        }
                    }
                }
                row[l] = Math.Sqrt(sum);
            }
            history.Add(row);
            HalveWhenLong(history);
        }

        public double[][] Thinned(int points) => history.Count <= points
            ? [.. history]
            : [.. Enumerable.Range(0, points).Select(i => history[(int)((long)i * (history.Count - 1) / (points - 1))])];
    }
}
