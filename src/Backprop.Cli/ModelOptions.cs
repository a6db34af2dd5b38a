using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>What <c>predict</c>, <c>evaluate</c>, <c>export</c> and <c>train --out</c> share: the model file options and the model a training run makes.</summary>
internal static class ModelOptions
{
    public static Option<string> ModelFile() => new("--model") { Description = "Model file written by 'backprop train --out'", HelpName = "FILE", Required = true, CustomParser = FileName };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object and nothing else" };

    /// <summary>A file name that must not be empty.</summary>
    public static string FileName(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (string.IsNullOrWhiteSpace(text))
        {
            result.AddError($"{(result.Parent is OptionResult o ? o.Option.Name : result.Argument.Name)} needs a file name.");
        }
        return text;
    }

    /// <summary>The model a training run made, with its metadata, ready to save.</summary>
    public static Model<double> FromRun(TrainingRun run, TrainingResult result)
    {
        var s = run.Settings;
        return new Model<double>(run.Network)
        {
            ClassNames = s.Loss.IsClassification ? ClassNames(s.Data, run.Network.Layers.OfType<Nn.Dense<double>>().Last().Outputs) : null,
            Metadata = ModelMetadata.FromTraining(result, s.Data, s.Loss, s.Stage is null && s.Init != "lesson" ? s.Seed : null),
        };
    }

    /// <summary>Class names for a classifier trained on <paramref name="data"/>: its targets are class indices 0, 1, ….</summary>
    public static IReadOnlyList<string> ClassNames(Dataset data, int classes)
        => [.. Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>Fails early, before training, when the model could not be written to <paramref name="path"/>.</summary>
    public static void CheckWritable(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new BackpropException($"{path}: cannot write the model: the folder {folder} does not exist.");
        }
    }

    /// <summary>Writes one indented JSON object built by <paramref name="write"/>.</summary>
    public static void WriteJson(TextWriter stdout, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>A number, or null when it is NaN or infinite (JSON has neither).</summary>
    public static void Number(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    public static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
