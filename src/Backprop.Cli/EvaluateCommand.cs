using System.CommandLine;
using System.Globalization;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Serialization;
using Spectre.Console;
using static Backprop.Cli.JsonOutput;
using static Backprop.Cli.ModelOptions;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop evaluate --model FILE --data FILE.csv</c> (or <c>--dataset dosage</c>): the model's
/// loss on labelled data and, for a classifier, its accuracy and confusion matrix.
/// </summary>
internal sealed class EvaluateCommand(TextWriter stdout)
{
    private readonly Option<string> model = ModelFile();
    private readonly Option<string?> data = new("--data") { Description = "CSV file: input columns, then the target column (a class index for classifiers); header row optional", HelpName = "FILE", CustomParser = FileName };
    private readonly Option<string?> dataset = new("--dataset") { Description = "A built-in dataset: dosage, or fashion-mnist (its 10,000 test images)", HelpName = "NAME" };
    private readonly Option<bool> json = Json();

    public static Command Create(TextWriter stdout)
    {
        var evaluate = new EvaluateCommand(stdout);
        var command = new Command("evaluate", "Evaluate a saved model on labelled data: loss, and accuracy and confusion matrix for classifiers.")
        {
            evaluate.model, evaluate.data, evaluate.dataset, evaluate.json,
        };
        command.SetAction(evaluate.Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        var (file, name) = (parsed.GetValue(data), parsed.GetValue(dataset));
        if (file is null && name is null)
        {
            throw new BackpropException("evaluate needs the rows to score: --data FILE.csv or --dataset NAME.");
        }
        if (file is not null && name is not null)
        {
            throw new BackpropException("evaluate scores either --data FILE.csv or --dataset NAME, not both.");
        }
        var path = parsed.GetValue(model)!;
        var loaded = Model<double>.Load(path);
        var set = file is not null ? CsvDataset.Load(file) : BuiltIn(name!);
        var evaluation = Evaluate(loaded, set);
        if (parsed.GetValue(json))
        {
            Write(stdout, j => WriteFields(j, evaluation));
        }
        else
        {
            WriteText(path, set, evaluation);
        }
        return BackpropCli.Success;
    }

    private static Dataset BuiltIn(string name) => name.Trim().ToUpperInvariant() switch
    {
        "DOSAGE" => Datasets.Dosage,
        // The test rows: the model was trained (and validated) on the training file.
        "FASHION-MNIST" => FashionMnist.LoadTest(DataOptions.FashionMnistFolder()),
        _ => throw new BackpropException($"Unknown dataset '{name}'; the built-in datasets are: dosage, fashion-mnist (its test set)."),
    };

    /// <summary>The loss, and for a classifier the counts of (observed, predicted) classes.</summary>
    internal sealed record Evaluation(Loss Loss, double Value, int Rows, IReadOnlyList<string>? Classes, int[,]? Confusion)
    {
        public int Correct => Confusion is null ? 0 : Enumerable.Range(0, Classes!.Count).Sum(c => Confusion[c, c]);

        public double Accuracy => (double)Correct / Rows;
    }

    internal static Evaluation Evaluate(Model<double> model, Dataset set)
    {
        if (set.InputCount != model.InputCount)
        {
            throw new BackpropException($"The data ({set.Name}) has {set.InputCount} input column{(set.InputCount == 1 ? "" : "s")}; the model takes {model.InputCount}.");
        }
        var loss = model.Metadata.Loss is { } stored ? Loss.Create(stored) : model.IsClassifier ? new CrossEntropy() : new MeanSquaredError();
        var x = set.InputTensor<double>();
        var predicted = model.Predict(x);
        if (model.ClassNames is not { } classes)
        {
            if (set.ClassNames is { } labels)
            {
                throw new BackpropException($"The data ({set.Name}) has class labels ({string.Join(", ", labels.Take(5))}{(labels.Count > 5 ? ", …" : "")}); the model predicts values, not classes.");
            }
            if (set.TargetCount != model.OutputCount)
            {
                throw new BackpropException($"The data ({set.Name}) has {set.TargetCount} target column{(set.TargetCount == 1 ? "" : "s")}; the model predicts {model.OutputCount}.");
            }
            return new Evaluation(loss, double.CreateChecked(loss.Compute(predicted, set.TargetTensor<double>()).Item()), set.Count, null, null);
        }
        var confusion = new int[classes.Count, classes.Count];
        for (var r = 0; r < set.Count; r++)
        {
            var target = set.Targets[r];
            if (target != Math.Floor(target) || target < 0 || target >= classes.Count)
            {
                throw new BackpropException($"The data ({set.Name}), row {r + 1}: target {target.ToString(CultureInfo.InvariantCulture)} is not a class index from 0 to {classes.Count - 1}.");
            }
            confusion[(int)target, Backprop.Training.ConfusionMatrix.ArgMax(predicted.Data.Slice(r * classes.Count, classes.Count))]++;
        }
        var value = double.CreateChecked(loss.Compute(predicted, set.TargetTensor<double>()).Item());
        return new Evaluation(loss, value, set.Count, classes, confusion);
    }

    private static void WriteFields(System.Text.Json.Utf8JsonWriter json, Evaluation e)
    {
        json.WriteNumber("rows", e.Rows);
        json.WriteString("lossName", e.Loss.Name);
        json.WritePropertyName("loss");
        Number(json, e.Value);
        if (e.Classes is { } classes)
        {
            json.WriteNumber("accuracy", e.Accuracy);
            json.WriteStartArray("classes");
            classes.ToList().ForEach(json.WriteStringValue);
            json.WriteEndArray();
            // Rows are the observed classes, columns the predicted ones.
            json.WriteStartArray("confusionMatrix");
            for (var o = 0; o < classes.Count; o++)
            {
                json.WriteStartArray();
                for (var p = 0; p < classes.Count; p++)
                {
                    json.WriteNumberValue(e.Confusion![o, p]);
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
    }

    private void WriteText(string path, Dataset set, Evaluation e)
    {
        stdout.WriteLine($"Model {path} on {set.Name} ({e.Rows} rows)");
        stdout.WriteLine($"{e.Loss.DisplayName}: {F(e.Value)}");
        if (e.Classes is not { } classes)
        {
            return;
        }
        stdout.WriteLine($"Accuracy: {(100 * e.Accuracy).ToString("0.##", CultureInfo.InvariantCulture)}% ({e.Correct} of {e.Rows})");
        stdout.WriteLine();
        // The heading goes straight to stdout: as a table title Spectre would wrap it to the table's width.
        stdout.WriteLine("Confusion matrix (rows: observed, columns: predicted)");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("observed"));
        foreach (var c in classes)
        {
            table.AddColumn(new TableColumn(Markup.Escape(c)).RightAligned());
        }
        for (var o = 0; o < classes.Count; o++)
        {
            table.AddRow([new Text(classes[o]), .. Enumerable.Range(0, classes.Count).Select(p => new Text(e.Confusion![o, p].ToString(CultureInfo.InvariantCulture)))]);
        }
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) }).Write(table);
    }
}
