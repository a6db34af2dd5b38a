using System.CommandLine;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Training;
using Spectre.Console;
using static Backprop.Cli.JsonOutput;
using static Backprop.Cli.ModelOptions;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop predict --model FILE</c>: the model's prediction for one row (<c>--input</c>) or for
/// every row of a CSV file (<c>--data</c>); for a classifier, the class and its probabilities.
/// </summary>
internal sealed class PredictCommand(TextWriter stdout)
{
    private const int MaxTextRows = 1000;

    private readonly Option<string> model = ModelFile();
    private readonly Option<string?> input = new("--input") { Description = "One row of inputs, separated by commas, e.g. 0.5", HelpName = "X1,X2,…" };
    private readonly Option<string?> data = new("--data") { Description = "CSV file: the model's input columns (a last target column is ignored); header row optional", HelpName = "FILE", CustomParser = FileName };
    private readonly Option<bool> json = Json();

    public static Command Create(TextWriter stdout)
    {
        var predict = new PredictCommand(stdout);
        var command = new Command("predict", "Predict with a saved model: one row (--input) or every row of a CSV file (--data).")
        {
            predict.model, predict.input, predict.data, predict.json,
        };
        command.SetAction(predict.Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        var (line, file) = (parsed.GetValue(input), parsed.GetValue(data));
        if ((line is null) == (file is null))
        {
            throw new BackpropException("predict needs either --input X1,X2,… (one row) or --data FILE.csv (every row), not both.");
        }
        var path = parsed.GetValue(model)!;
        var loaded = Model<double>.Load(path);
        var (values, rows) = line is not null ? (InputRows.Parse(line, loaded.InputCount), 1) : Rows(InputRows.Read(file!, loaded.InputCount));
        var x = new Tensor<double>(values, new Shape(rows, loaded.InputCount));
        var outputs = loaded.IsClassifier ? loaded.PredictProbabilities(x) : loaded.Predict(x);
        if (parsed.GetValue(json))
        {
            Write(stdout, j => WriteFields(j, loaded, outputs));
        }
        else
        {
            WriteText(loaded, x, outputs);
        }
        return BackpropCli.Success;
    }

    private static (double[], int) Rows((double[] Values, int Rows, string[]? Header) read) => (read.Values, read.Rows);

    private static void WriteFields(System.Text.Json.Utf8JsonWriter json, Model<double> model, Tensor<double> outputs)
    {
        var width = outputs.Shape[1];
        if (model.ClassNames is { } classes)
        {
            json.WriteStartArray("classes");
            classes.ToList().ForEach(json.WriteStringValue);
            json.WriteEndArray();
        }
        json.WriteStartArray("predictions");
        for (var r = 0; r < outputs.Shape[0]; r++)
        {
            var row = outputs.Data.Slice(r * width, width);
            if (model.ClassNames is { } names)
            {
                json.WriteStartObject();
                json.WriteString("class", names[ConfusionMatrix.ArgMax(row)]);
                json.WriteStartArray("probabilities");
                foreach (var p in row)
                {
                    Number(json, p);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            else
            {
                json.WriteStartArray();
                foreach (var v in row)
                {
                    Number(json, v);
                }
                json.WriteEndArray();
            }
        }
        json.WriteEndArray();
    }

    private void WriteText(Model<double> model, Tensor<double> x, Tensor<double> outputs)
    {
        var inputNames = model.Metadata.InputNames ?? [.. Enumerable.Range(1, model.InputCount).Select(i => $"x{i}")];
        var outputNames = model.Metadata.OutputNames is { } o && o.Count == model.OutputCount ? o : [.. Enumerable.Range(1, model.OutputCount).Select(i => $"y{i}")];
        var table = new Table().Border(TableBorder.Rounded).Title("Predictions");
        foreach (var name in inputNames.Take(4))
        {
            table.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        }
        if (model.ClassNames is not null)
        {
            table.AddColumn(new TableColumn("Class"));
            table.AddColumn(new TableColumn("Probability").RightAligned());
        }
        else
        {
            foreach (var name in outputNames)
            {
                table.AddColumn(new TableColumn(Markup.Escape(name) + " (predicted)").RightAligned());
            }
        }
        var rows = outputs.Shape[0];
        var width = outputs.Shape[1];
        for (var r = 0; r < Math.Min(rows, MaxTextRows); r++)
        {
            var cells = new List<Text>();
            for (var c = 0; c < Math.Min(model.InputCount, 4); c++)
            {
                cells.Add(new Text(F(x[(r * model.InputCount) + c])));
            }
            var row = outputs.Data.Slice(r * width, width);
            if (model.ClassNames is { } classes)
            {
                var best = ConfusionMatrix.ArgMax(row);
                cells.Add(new Text(classes[best]));
                cells.Add(new Text(F(row[best])));
            }
            else
            {
                foreach (var v in row)
                {
                    cells.Add(new Text(F(v)));
                }
            }
            table.AddRow(cells);
        }
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) }).Write(table);
        if (rows > MaxTextRows)
        {
            stdout.WriteLine($"(first {MaxTextRows} of {rows} rows; --json gives them all)");
        }
    }
}
