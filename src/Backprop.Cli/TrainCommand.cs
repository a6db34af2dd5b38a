using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop train</c> (and <c>backprop</c> alone): builds a network, trains it by backpropagation
/// and reports the result. With no options: the lesson's network, data and settings.
/// </summary>
internal sealed class TrainCommand(TextWriter stdout)
{
    private readonly TrainOutputs outputs = new();

    private readonly Option<FileInfo?> data = new("--data") { Description = "CSV file: input columns, then one target column; header row optional (default: the lesson's dosage data)", HelpName = "FILE", CustomParser = ParseFile };
    private readonly Option<string?> layers = new("--layers") { Description = "Layer sizes from inputs to outputs, e.g. 1,2,1 (default: inputs,2,1)", HelpName = "SIZES" };
    private readonly Option<string> activation = new("--activation") { Description = "Hidden-layer activation: softplus, relu, sigmoid, tanh, identity", DefaultValueFactory = _ => "softplus", HelpName = "NAME" };
    private readonly Option<string> loss = new("--loss") { Description = "Loss: ssr (sum of squared residuals), mse, cross-entropy", DefaultValueFactory = _ => "ssr", HelpName = "NAME" };
    private readonly Option<string> optimizer = new("--optimizer") { Description = "Update rule: gd (gradient descent), momentum, adam", DefaultValueFactory = _ => "gd", HelpName = "NAME" };
    private readonly Option<double> learningRate = new("--lr", "--learning-rate") { Description = "Learning rate", DefaultValueFactory = _ => Lesson.LearningRate, HelpName = "RATE", CustomParser = r => ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<int> maxSteps = new("--max-steps") { Description = "Stop after this many steps", DefaultValueFactory = _ => Lesson.MaxSteps, HelpName = "N", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<double> minStep = new("--min-step") { Description = "Stop when every step size (learning rate × derivative) is below this; 0 to never stop for this reason", DefaultValueFactory = _ => Lesson.MinStepSize, HelpName = "SIZE", CustomParser = r => ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<double?> targetLoss = new("--target-loss") { Description = "Stop when the loss is at or below this", HelpName = "LOSS", CustomParser = r => ParseNumber<double>(r, NumberStyles.Float, "a number") };
    private readonly Option<int?> batch = new("--batch") { Description = "Rows per step (default: all rows, full batch)", HelpName = "ROWS", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<ulong> seed = new("--seed") { Description = "Seed for random starting values and shuffling", DefaultValueFactory = _ => 1UL, HelpName = "N", CustomParser = r => ParseNumber<ulong>(r, NumberStyles.Integer, "a whole number ≥ 0") };
    private readonly Option<string?> init = new("--init") { Description = "Starting values: lesson (the lesson's network only; its default), normal (N(0,1) weights, zero biases: the default otherwise), xavier, he", HelpName = "NAME" };
    private readonly Option<string?> only = new("--only") { Description = "Train only these parameters, e.g. b3 or w3,w4,b3; the rest stay fixed", HelpName = "NAMES" };
    private readonly Option<int?> stage = new("--stage") { Description = "The lesson series' stage: 1 trains b3 alone, 2 trains w3, w4, b3, 3 trains all seven", HelpName = "1|2|3", CustomParser = r => ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object and nothing else" };

    public void AddTo(Command command)
    {
        foreach (Option option in (Option[])[data, layers, activation, loss, optimizer, learningRate, maxSteps, minStep, targetLoss, batch, seed, init, only, stage, json])
        {
            command.Options.Add(option);
        }
        foreach (var option in outputs.Options)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>How progress shows while training; set by the command line's caller (is stdout a terminal?).</summary>
    public ProgressSettings Progress { get; init; } = ProgressSettings.For(stdoutIsTerminal: false);

    /// <summary>Where progress lines go when stdout is not a terminal.</summary>
    public TextWriter Stderr { get; init; } = TextWriter.Null;

    public int Invoke(ParseResult parsed)
    {
        var settings = ReadSettings(parsed);
        var shown = outputs.Read(parsed);
        var run = TrainingRun.Start(settings);
        var recorder = shown.Recorder(run);
        var progress = shown.Quiet ? Progress with { Style = ProgressStyle.None }
            : settings.Json && Progress.Style == ProgressStyle.Bar ? ProgressSettings.For(stdoutIsTerminal: false) : Progress;
        var result = TrainProgress.Run(run, recorder is null ? [] : [recorder], progress, stdout, Stderr);
        var written = shown.Write(run, recorder);
        if (settings.Json)
        {
            TrainReport.WriteJson(stdout, run, result);
        }
        else
        {
            TrainReport.WriteText(stdout, run, result, shown.Quiet);
            foreach (var line in shown.Quiet ? [] : written)
            {
                stdout.WriteLine(line);
            }
        }
        return BackpropCli.Success;
    }

    private TrainSettings ReadSettings(ParseResult parsed)
    {
        var dataset = parsed.GetValue(data) is { } file ? CsvDataset.Load(file.FullName) : Datasets.Dosage;
        var lossFunction = Loss.Create(parsed.GetValue(loss)!);
        var lr = parsed.GetValue(learningRate);
        if (!(lr > 0) || !double.IsFinite(lr))
        {
            throw new BackpropException($"--lr must be a positive number; got {Format(lr)}.");
        }
        var steps = parsed.GetValue(maxSteps);
        if (steps < 0)
        {
            throw new BackpropException($"--max-steps must be 0 or more; got {steps}.");
        }
        var min = parsed.GetValue(minStep);
        if (!(min >= 0) || !double.IsFinite(min))
        {
            throw new BackpropException($"--min-step must be a number ≥ 0; got {Format(min)}.");
        }
        if (parsed.GetValue(targetLoss) is { } target && double.IsNaN(target))
        {
            throw new BackpropException("--target-loss must be a number; got NaN.");
        }
        if (parsed.GetValue(batch) is <= 0 and var b)
        {
            throw new BackpropException($"--batch must be a positive number of rows; got {b}.");
        }
        var sizes = ParseLayers(parsed.GetValue(layers), dataset, lossFunction);
        var stageNumber = parsed.GetValue(stage);
        var onlyNames = parsed.GetValue(only) is { } list ? SplitNames(list) : null;
        var initName = parsed.GetValue(init)?.Trim().ToLowerInvariant();
        if (stageNumber is { } s)
        {
            if (onlyNames is not null)
            {
                throw new BackpropException("--stage chooses the trained parameters itself; it cannot be combined with --only.");
            }
            if (initName is not null)
            {
                throw new BackpropException("--stage sets the starting values itself; it cannot be combined with --init.");
            }
            if (!sizes.SequenceEqual(Lesson.LayerSizes))
            {
                throw new BackpropException($"--stage is for the lesson's network (layers 1,2,1); the network here has layers {string.Join(",", sizes)}.");
            }
            _ = Lesson.Stage(s);
        }
        var lessonShaped = sizes.SequenceEqual(Lesson.LayerSizes);
        initName ??= lessonShaped ? "lesson" : "normal";
        if (initName == "lesson" && !lessonShaped)
        {
            throw new BackpropException($"--init lesson gives the lesson's starting values, which fit only layers 1,2,1; the network here has layers {string.Join(",", sizes)}.");
        }
        if (initName != "lesson")
        {
            _ = Initializer.Create(initName, 0);
        }
        var optimizerName = parsed.GetValue(optimizer)!;
        _ = Optimizer<double>.Create(optimizerName, [], lr);
        return new TrainSettings(
            dataset, sizes, Activations.Parse(parsed.GetValue(activation)!), lossFunction, optimizerName, lr,
            new TrainingOptions
            {
                MaxSteps = steps,
                MinStepSize = min > 0 ? min : null,
                TargetLoss = parsed.GetValue(targetLoss),
                BatchSize = parsed.GetValue(batch),
                ShuffleSeed = parsed.GetValue(seed),
            },
            parsed.GetValue(seed), initName, onlyNames, stageNumber, parsed.GetValue(json));
    }

    private static int[] ParseLayers(string? text, Dataset dataset, Loss lossFunction)
    {
        if (text is null)
        {
            return lossFunction.IsClassification
                ? throw new BackpropException("With --loss cross-entropy, give --layers ending in the number of classes, e.g. --layers 4,8,3.")
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
        return sizes;
    }

    private static string[] SplitNames(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return names.Length > 0 ? names : throw new BackpropException("--only needs at least one parameter name, e.g. --only b3.");
    }

    // System.CommandLine's own message names .NET types ("expected type 'System.Double'"); say it for people.
    private static T ParseNumber<T>(ArgumentResult result, NumberStyles style, string kind) where T : INumberBase<T>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (T.TryParse(text, style, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        result.AddError($"{OptionName(result)} takes {kind}; got '{text}'.");
        return T.Zero;
    }

    private static FileInfo? ParseFile(ArgumentResult result)
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
