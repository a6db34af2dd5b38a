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

    /// <summary>Fails early, before training, when the model could not be written to <paramref name="path"/>.</summary>
    public static void CheckWritable(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new BackpropException($"{path}: cannot write the model: the folder {folder} does not exist.");
        }
    }

    public static string F(double value) => NumberText.Short(value);
}
