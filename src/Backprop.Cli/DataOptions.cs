using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Runs;

namespace Backprop.Cli;

/// <summary>
/// <c>train</c>'s options that choose the data: <c>--dataset</c> (dosage, fashion-mnist or a CSV
/// file), <c>--target</c>, <c>--validation</c>, <c>--limit</c>, <c>--standardize</c>.
/// </summary>
internal sealed class DataOptions
{
    public const string FashionMnistName = "fashion-mnist";

    /// <summary>The environment variable that names a folder of Fashion-MNIST files to read instead of Debian's.</summary>
    public const string FashionMnistVariable = "BACKPROP_FASHION_MNIST";

    private readonly Option<string?> dataset = new("--dataset") { Description = "Data: dosage (the lesson's, the default), fashion-mnist (Debian's dataset-fashion-mnist package), or a CSV file (same as --data)", HelpName = "NAME|FILE" };
    private readonly Option<string?> target = new("--target") { Description = "CSV: the target column, by header name or number from 1 (default: the last column)", HelpName = "COLUMN" };
    private readonly Option<double?> validation = new("--validation") { Description = "Fraction of the training rows held out for validation after every epoch, chosen at random with --seed (default: 0.1 for fashion-mnist, else 0)", HelpName = "FRACTION", CustomParser = r => ParseFraction(r) };
    private readonly Option<int?> limit = new("--limit") { Description = "Use only the first N rows of the training data (and of the test data): quick runs", HelpName = "N", CustomParser = r => ParseCount(r) };
    private readonly Option<FileInfo?> testRows = new("--test") { Description = "CSV file of test rows with the training data's columns: scored once at the end with the task's metrics (loss; accuracy and confusion matrix, or MSE, RMSE, MAE and R²)", HelpName = "FILE", CustomParser = RunOptions.ParseFile };
    private readonly Option<bool> standardize = new("--standardize") { Description = "Rescale every input column to mean 0, deviation 1, as measured on the training rows (then applied to validation and test rows)" };

    public IEnumerable<Option> Options => [dataset, target, validation, testRows, limit, standardize];

    /// <summary>The options that choose the rows only (<c>gradcheck</c>): <c>--dataset</c> and <c>--limit</c>.</summary>
    public IEnumerable<Option> ChoiceOptions => [dataset, limit];

    /// <summary>The folder of the Fashion-MNIST files: <see cref="FashionMnistVariable"/>, or Debian's.</summary>
    /// <exception cref="BackpropException">The variable names something that is not a folder.</exception>
    public static string FashionMnistFolder()
    {
        var folder = Environment.GetEnvironmentVariable(FashionMnistVariable) is { Length: > 0 } f ? f : FashionMnist.DefaultDirectory;
        return folder != FashionMnist.DefaultDirectory && !Directory.Exists(folder)
            ? throw new BackpropException($"{FashionMnistVariable} names {folder}, which is not a folder.")
            : folder;
    }

    /// <summary>True when the command line names the data with --dataset fashion-mnist.</summary>
    public static bool IsFashionMnist(string? name) => string.Equals(name?.Trim(), FashionMnistName, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Loads the data. <paramref name="csvFile"/> is <c>--data</c>; <paramref name="lossName"/> is
    /// <c>--loss</c> when given (cross-entropy reads CSV targets as class labels even when they are numbers).
    /// </summary>
    public RunData Load(ParseResult parsed, FileInfo? csvFile, string? lossName, ulong seed, bool choiceOnly = false)
    {
        var name = parsed.GetValue(dataset);
        if (name is not null && csvFile is not null)
        {
            throw new BackpropException("--data and --dataset both choose the data; give one of them.");
        }
        var csvPath = csvFile?.FullName;
        if (name is { } n && !IsFashionMnist(n) && !string.Equals(n.Trim(), "dosage", StringComparison.OrdinalIgnoreCase))
        {
            csvPath = string.IsNullOrWhiteSpace(n) ? throw new BackpropException("--dataset needs a name (dosage, fashion-mnist) or a CSV file.") : Path.GetFullPath(n);
        }
        var targetColumn = choiceOnly ? null : parsed.GetValue(target);
        if (targetColumn is not null && csvPath is null)
        {
            throw new BackpropException("--target chooses a column of a CSV file; give the file with --data or --dataset.");
        }
        Dataset train;
        Dataset? test = null;
        var max = parsed.GetValue(limit);
        if (IsFashionMnist(name))
        {
            var folder = FashionMnistFolder();
            train = FashionMnist.LoadTrain(folder);
            test = FashionMnist.LoadTest(folder);
        }
        else if (csvPath is not null)
        {
            var classes = lossName is null ? (bool?)null : Loss.Create(lossName).IsClassification ? true : null;
            train = CsvDataset.Load(csvPath, new CsvOptions { Target = targetColumn, Classification = classes });
        }
        else
        {
            train = Datasets.Dosage;
        }
        if (lossName is not null && Loss.Create(lossName).IsClassification)
        {
            train = train.ToClassification();
        }
        if (!choiceOnly && parsed.GetValue(testRows) is { } testFile)
        {
            if (IsFashionMnist(name))
            {
                throw new BackpropException("--test is for CSV data: fashion-mnist brings its own 10,000 test images.");
            }
            // The test rows are read as the training rows were: the same target column, values or class labels.
            test = CsvDataset.Load(testFile.FullName, new CsvOptions { Target = targetColumn, Classification = train.IsClassification });
            test = train.ClassNames is { } names ? test.WithClasses(names) : test;
        }
        var fraction = choiceOnly ? 0 : parsed.GetValue(validation) ?? (IsFashionMnist(name) ? 0.1 : 0);
        var data = RunData.Prepare(train, test, fraction, seed, !choiceOnly && parsed.GetValue(standardize), max);
        return IsFashionMnist(name) ? data with { ImageSize = (FashionMnist.ImageSide, FashionMnist.ImageSide) } : data;
    }

    private static double? ParseFraction(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value < 1)
        {
            return value;
        }
        result.AddError($"--validation takes a fraction from 0 to below 1, e.g. 0.1; got '{text}'.");
        return null;
    }

    private static int? ParseCount(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return value;
        }
        result.AddError($"--limit takes a positive whole number of rows; got '{text}'.");
        return null;
    }
}
