using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// The options that say which network to build and how to train it, shared by <c>train</c>,
/// <c>explain</c>, <c>gradcheck</c> and <c>graph</c>: data, layers, activation, loss, starting values,
/// trained parameters (the network), and optimizer, learning rate, stopping rules, batching (the training).
/// </summary>
internal sealed class RunOptions
{
    private readonly Option<FileInfo?> data = new("--data") { Description = "CSV file: input columns, then one target column; header row optional (default: the lesson's dosage data)", HelpName = "FILE", CustomParser = ParseFile };
    private readonly Option<string?> layers = new("--layers") { Description = "Layer sizes from inputs to outputs, e.g. 1,2,1 (default: inputs,2,1)", HelpName = "SIZES" };
    private readonly Option<string?> net = new("--net") { Description = NetDescription, HelpName = "LAYERS" };
    private readonly Option<string> activation = new("--activation") { Description = "Hidden-layer activation: softplus, relu, sigmoid, tanh, identity", DefaultValueFactory = _ => "softplus", HelpName = "NAME" };
    private readonly Option<string> loss = new("--loss") { Description = "Loss: ssr (sum of squared residuals, the lesson's), mse (mean squared error), mae (mean absolute error), huber (Huber, δ = 1), bce (binary cross-entropy on logits; targets from 0 to 1), cross-entropy (softmax over classes: the default for class labels)", DefaultValueFactory = _ => "ssr", HelpName = "NAME" };
    private readonly Option<string> optimizer = new("--optimizer") { Description = "Update rule: gd (gradient descent), momentum, adam", DefaultValueFactory = _ => "gd", HelpName = "NAME" };
    private readonly Option<double> learningRate = new("--lr", "--learning-rate") { Description = "Learning rate", DefaultValueFactory = _ => Lesson.LearningRate, HelpName = "RATE", CustomParser = r => ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<int> maxSteps = new("--max-steps") { Description = "Stop after this many steps", DefaultValueFactory = _ => Lesson.MaxSteps, HelpName = "N", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<double> minStep = new("--min-step") { Description = "Stop when every step size (learning rate × derivative) is below this; 0 to never stop for this reason", DefaultValueFactory = _ => Lesson.MinStepSize, HelpName = "SIZE", CustomParser = r => ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<double?> targetLoss = new("--target-loss") { Description = "Stop when the loss is at or below this", HelpName = "LOSS", CustomParser = r => ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<int?> batch = new("--batch") { Description = "Rows per step (default: all rows, full batch)", HelpName = "ROWS", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<ulong> seed = new("--seed") { Description = "Seed for random starting values and shuffling", DefaultValueFactory = _ => 1UL, HelpName = "N", CustomParser = r => ParseNumber<ulong>(r, NumberStyles.Integer, "a whole number ≥ 0") };
    private readonly Option<string?> init = new("--init") { Description = "Starting values: lesson (the lesson's network only; its default), normal (N(0,1) weights, zero biases: the default otherwise), xavier, he", HelpName = "NAME" };
    private readonly Option<string?> only = new("--only") { Description = "Train only these parameters, e.g. b3 or w3,w4,b3; the rest stay fixed", HelpName = "NAMES" };
    private readonly Option<int?> epochs = new("--epochs") { Description = "Stop after N passes over the training data; then --max-steps and --min-step apply only when given", HelpName = "N", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<string?> precision = new("--precision") { Description = "Numbers in training: double or float (default: float for fashion-mnist, else double)", HelpName = "double|float" };
    private readonly DataOptions dataOptions = new();
    private bool dataOptionsAdded;
    private bool dataChoiceAdded;
    private readonly Option<int?> stage = new("--stage") { Description = "The lesson series' stage: 1 trains b3 alone, 2 trains w3, w4, b3, 3 trains all seven", HelpName = "1|2|3", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };

    /// <summary>Adds the options that choose the data, the network and its starting values.</summary>
    public void AddNetworkOptions(Command command)
    {
        foreach (Option option in (Option[])[data, layers, activation, net, loss, seed, init, only, stage])
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Adds the options that choose the update rule, the learning rate, the stopping rules and batching.</summary>
    public void AddTrainingOptions(Command command)
    {
        foreach (Option option in (Option[])[optimizer, learningRate, maxSteps, minStep, targetLoss, batch])
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Adds the options only <c>train</c> has: built-in and CSV datasets with splits, epochs, precision.</summary>
    public void AddDatasetOptions(Command command)
    {
        foreach (Option option in (Option[])[.. dataOptions.Options, epochs, precision])
        {
            command.Options.Add(option);
        }
        dataOptionsAdded = true;
    }

    /// <summary>Adds <c>--dataset</c> and <c>--limit</c> alone (<c>gradcheck</c>: which rows, no splits).</summary>
    public void AddDataChoiceOptions(Command command)
    {
        foreach (var option in dataOptions.ChoiceOptions)
        {
            command.Options.Add(option);
        }
        dataChoiceAdded = true;
    }

    /// <summary>
    /// Reads and checks the options into a run description. With <paramref name="training"/> false,
    /// only the network options were added to the command and the training ones take their defaults
    /// (the lesson's).
    /// </summary>
    public RunSpec Read(ParseResult parsed, bool training = true)
    {
        var lossName = parsed.GetResult(loss) is { Implicit: false } ? parsed.GetValue(loss) : null;
        var runData = dataOptionsAdded || dataChoiceAdded
            ? dataOptions.Load(parsed, parsed.GetValue(data), lossName, parsed.GetValue(seed), choiceOnly: !dataOptionsAdded)
            : new RunData(LoadData(parsed.GetValue(data), lossName));
        var dataset = runData.Train;
        var lossFunction = Loss.Create(lossName ?? (dataset.IsClassification ? "cross-entropy" : parsed.GetValue(loss)!));
        var lr = training ? parsed.GetValue(learningRate) : Lesson.LearningRate;
        if (!(lr > 0) || !double.IsFinite(lr))
        {
            throw new BackpropException($"--lr must be a positive number; got {Format(lr)}.");
        }
        var steps = training ? parsed.GetValue(maxSteps) : Lesson.MaxSteps;
        if (steps < 0)
        {
            throw new BackpropException($"--max-steps must be 0 or more; got {steps}.");
        }
        var min = training ? parsed.GetValue(minStep) : Lesson.MinStepSize;
        if (!(min >= 0) || !double.IsFinite(min))
        {
            throw new BackpropException($"--min-step must be a number ≥ 0; got {Format(min)}.");
        }
        var targetValue = training ? parsed.GetValue(targetLoss) : null;
        if (targetValue is { } target && !double.IsFinite(target))
        {
            throw new BackpropException($"--target-loss must be a finite number; got {Format(target)}.");
        }
        var batchRows = training ? parsed.GetValue(batch) : null;
        if (batchRows is <= 0 and var b)
        {
            throw new BackpropException($"--batch must be a positive number of rows; got {b}.");
        }
        var epochCount = dataOptionsAdded ? parsed.GetValue(epochs) : null;
        if (epochCount is <= 0)
        {
            throw new BackpropException($"--epochs must be a positive number; got {epochCount}.");
        }
        CheckTask(dataset, lossFunction);
        var precisionChoice = dataOptionsAdded ? ReadPrecision(parsed.GetValue(precision), parsed) : Precision.Double;
        var rowsPerStep = Math.Min(batchRows ?? dataset.Count, dataset.Count);
        var elementSize = precisionChoice == Precision.Float ? sizeof(float) : sizeof(double);
        NetworkRecipe recipe;
        if (parsed.GetValue(net) is { } netText)
        {
            recipe = ReadNet(parsed, netText, runData);
            CheckFits(netText, recipe.Net!.ParameterCount(recipe.InputShape), recipe.Net.ActivationCount(recipe.InputShape), rowsPerStep, elementSize);
        }
        else
        {
            var sizes = ParseLayers(parsed.GetValue(layers), dataset, lossFunction);
            CheckFits(sizes, rowsPerStep, elementSize);
            recipe = new NetworkRecipe(sizes, Activations.Parse(parsed.GetValue(activation)!));
        }
        var stageNumber = parsed.GetValue(stage);
        var onlyNames = parsed.GetValue(only) is { } list ? SplitNames(list) : null;
        var initName = parsed.GetValue(init)?.Trim().ToLowerInvariant();
        recipe = recipe with
        {
            Init = initName ?? (stageNumber is null ? recipe.DefaultInitFor(lossFunction) : null),
            Seed = parsed.GetValue(seed),
            Only = onlyNames,
            Stage = stageNumber,
        };
        recipe.Validate();
        var optimizerKind = training ? OptimizerKinds.Parse(parsed.GetValue(optimizer)!) : OptimizerKind.GradientDescent;
        var spec = new RunSpec
        {
            Data = runData,
            Network = recipe,
            Loss = lossFunction,
            Optimizer = optimizerKind,
            LearningRate = lr,
            Options = new TrainingOptions
            {
                // With --epochs, the lesson's step limits apply only when asked for.
                MaxSteps = epochCount is null || parsed.GetResult(maxSteps) is { Implicit: false } ? steps : int.MaxValue,
                MinStepSize = min > 0 && (epochCount is null || parsed.GetResult(minStep) is { Implicit: false }) ? min : null,
                TargetLoss = targetValue,
                BatchSize = batchRows,
                ShuffleSeed = parsed.GetValue(seed),
                Epochs = epochCount,
            },
            Precision = precisionChoice,
        };
        if (recipe.Net is not null)
        {
            // --layers is checked against the data as it is read; a net's outputs only once it is built.
            spec.Validate();
        }
        return spec;
    }

    /// <summary>--net's help: the items and an example.</summary>
    private static string NetDescription =>
        "The network as layers separated by commas, each a keyword and its words, e.g. "
        + "\"conv 32 3 pad 1, relu, maxpool 2, conv 64 3 pad 1, relu, maxpool 2, flatten, dense 128 relu, dense 10\". Layers: "
        + string.Join("; ", NetworkSpec.Syntax.Select(s => s.Syntax))
        + ". An activation right after dense or conv is fused into it. Sizes follow from the data: Fashion-MNIST reaches a network whose first layer is conv or a pool as images [N, 1, 28, 28], else as rows. Instead of --layers and --activation";

    // --net: the items, with one example's shape from the data (images when the first layer takes them).
    private NetworkRecipe ReadNet(ParseResult parsed, string text, RunData runData)
    {
        if (parsed.GetValue(layers) is not null)
        {
            throw new BackpropException("--net and --layers both describe the network; give one of them.");
        }
        if (parsed.GetResult(activation) is { Implicit: false })
        {
            throw new BackpropException("--activation is for --layers; with --net, write the activation as an item (dense 16 relu, or relu after a layer).");
        }
        var spec = NetworkSpec.Parse(text);
        var shape = spec.TakesImages && runData.ImageSize is { } image ? new Shape(1, image.Height, image.Width) : new Shape(runData.Train.InputCount);
        return NetworkRecipe.Of(spec, shape);
    }

    private static int[] ParseLayers(string? text, Dataset dataset, Loss lossFunction)
    {
        if (text is null)
        {
            return lossFunction.IsClassification
                ? throw new BackpropException(dataset.ClassNames is { } names
                    ? $"With --loss cross-entropy, give --layers from the {dataset.InputCount} inputs to the {names.Count} classes of {dataset.Name}, e.g. --layers {dataset.InputCount},{Math.Max(8, names.Count * 4)},{names.Count}."
                    : "With --loss cross-entropy, give --layers ending in the number of classes, e.g. --layers 4,8,3.")
                : [dataset.InputCount, 2, dataset.TargetCount];
        }
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] <= 0)
            {
                throw new BackpropException($"--layers takes positive whole numbers separated by commas, e.g. 1,2,1; '{parts[i]}' is not one.");
            }
        }
        if (sizes.Length < 2)
        {
            throw new BackpropException($"--layers needs at least an input size and an output size, e.g. 1,2,1; got '{text}'.");
        }
        if (sizes[0] != dataset.InputCount)
        {
            throw new BackpropException($"--layers starts with {sizes[0]} inputs but the data ({dataset.Name}) has {dataset.InputCount} input column{(dataset.InputCount == 1 ? "" : "s")}.");
        }
        if (!lossFunction.IsClassification && sizes[^1] != dataset.TargetCount)
        {
            throw new BackpropException($"--layers ends with {sizes[^1]} outputs but the data ({dataset.Name}) has {dataset.TargetCount} target column.");
        }
        if (lossFunction.IsClassification && dataset.ClassNames is { } classes && sizes[^1] != classes.Count)
        {
            throw new BackpropException($"--layers ends with {sizes[^1]} outputs but the data ({dataset.Name}) has {classes.Count} classes: one output per class.");
        }
        return sizes;
    }

    // NOTE: checked before anything is built, so that a network too large for the machine is one line, not an OutOfMemoryException.
    private static void CheckFits(int[] sizes, int rows, int elementSize)
    {
        long parameters = 0;
        for (var i = 0; i + 1 < sizes.Length; i++)
        {
            var weights = (long)sizes[i] * sizes[i + 1];
            if (weights > Array.MaxLength)
            {
                throw new BackpropException($"--layers {string.Join(",", sizes)}: the layer from {sizes[i]} to {sizes[i + 1]} units would have {weights} weights, more than one array can hold ({Array.MaxLength}).");
            }
            parameters += weights + sizes[i + 1];
        }
        // Each parameter's value, gradient and up to two optimizer buffers; each row's layer outputs and their gradients.
        var bytes = ((4 * parameters) + (2L * rows * sizes.Sum(s => (long)s))) * elementSize;
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
        {
            throw new BackpropException(string.Create(CultureInfo.InvariantCulture,
                $"--layers {string.Join(",", sizes)} makes a network of {parameters} parameters that needs about {bytes / (1 << 20)} MiB to train on {rows} rows at a time; this machine has {available / (1 << 20)} MiB."));
        }
    }

    private static void CheckFits(string text, long parameters, long activations, int rows, int elementSize)
    {
        var bytes = ((4 * parameters) + (2L * rows * activations)) * elementSize;
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
        {
            throw new BackpropException(string.Create(CultureInfo.InvariantCulture,
                $"--net \"{text}\" makes a network of {parameters} parameters that needs about {bytes / (1 << 20)} MiB to train on {rows} rows at a time; this machine has {available / (1 << 20)} MiB."));
        }
    }

    // Without train's dataset options: --data or the dosage data; cross-entropy reads CSV targets as class labels.
    private static Dataset LoadData(FileInfo? file, string? lossName)
    {
        var classes = lossName is not null && Loss.Create(lossName).IsClassification;
        var dataset = file is null ? Datasets.Dosage : CsvDataset.Load(file.FullName, new CsvOptions { Classification = classes ? true : null });
        return classes ? dataset.ToClassification() : dataset;
    }

    private static void CheckTask(Dataset dataset, Loss lossFunction)
    {
        if (dataset.IsClassification && !lossFunction.IsClassification)
        {
            throw new BackpropException($"The data ({dataset.Name}) has class labels; train it with --loss cross-entropy (its default), not {lossFunction.Name}.");
        }
        if (!dataset.IsClassification && lossFunction.IsClassification)
        {
            throw new BackpropException($"--loss cross-entropy needs class labels, but the data ({dataset.Name}) has values; for a CSV file the target column holds the labels.");
        }
    }

    private static Precision ReadPrecision(string? text, ParseResult parsed)
    {
        var name = text?.Trim().ToLowerInvariant() ?? (DataOptions.IsFashionMnist(parsed.GetValue<string?>("--dataset")) ? "float" : "double");
        return name switch
        {
            "double" => Precision.Double,
            "float" => Precision.Float,
            _ => throw new BackpropException($"--precision takes double or float; got '{text}'."),
        };
    }

    // Commas separate names, except inside brackets: layer0.weight[0,1] is one name.
    internal static string[] SplitNames(string list, string option = "--only")
    {
        var names = System.Text.RegularExpressions.Regex.Split(list, @",(?![^\[]*\])")
            .Select(n => n.Trim()).Where(n => n.Length > 0).ToArray();
        return names.Length > 0 ? names : throw new BackpropException($"{option} needs at least one parameter name, e.g. {option} b3.");
    }

    // System.CommandLine's own message names .NET types ("expected type 'System.Double'"); say it for people.
    internal static T ParseNumber<T>(ArgumentResult result, NumberStyles style, string kind) where T : INumberBase<T>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (T.TryParse(text, style, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        // A whole number too large for its type says so, rather than that it is not a whole number.
        var tooLarge = style == NumberStyles.Integer && text.Length > 0 && text.All(char.IsAsciiDigit);
        result.AddError($"{OptionName(result)} takes {kind}; got '{text}'{(tooLarge ? ", which is too large" : "")}.");
        return T.Zero;
    }

    internal static FileInfo? ParseFile(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (string.IsNullOrWhiteSpace(text))
        {
            result.AddError($"{OptionName(result)} needs a file name.");
            return null;
        }
        return new FileInfo(text);
    }

    private static string OptionName(ArgumentResult result) => result.Parent is OptionResult o ? o.Option.Name : result.Argument.Name;

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
