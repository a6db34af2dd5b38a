using System.CommandLine;
using Backprop.Serialization;
using static Backprop.Cli.JsonOutput;
using static Backprop.Cli.ModelOptions;

namespace Backprop.Cli;

/// <summary><c>backprop export --model FILE --onnx OUT.onnx</c>: writes the model as a standard ONNX model.</summary>
internal sealed class ExportCommand(TextWriter stdout)
{
    private readonly Option<string> model = ModelFile();
    private readonly Option<string> onnx = new("--onnx") { Description = "The ONNX file to write (opset 17, float32, dynamic batch); an existing file is replaced whole", HelpName = "OUT.onnx", Required = true, CustomParser = FileName };
    private readonly Option<bool> json = Json();

    public static Command Create(TextWriter stdout)
    {
        var export = new ExportCommand(stdout);
        var command = new Command("export", "Export a saved model to ONNX, for ONNX Runtime and the tools that read ONNX.")
        {
            export.model, export.onnx, export.json,
        };
        command.SetAction(export.Invoke);
        return command;
    }

    private int Invoke(ParseResult parsed)
    {
        var path = parsed.GetValue(onnx)!;
        var paths = new OutputPlan();
        paths.Input(parsed.GetValue(model)!, "--model");
        paths.Output(path, "--onnx");
        var loaded = Model<double>.Load(parsed.GetValue(model)!);
        loaded.ExportOnnx(path);
        string[] outputs = loaded.IsClassifier ? ["output", "probabilities"] : ["output"];
        if (parsed.GetValue(json))
        {
            Write(stdout, j =>
            {
                j.WriteString("onnx", path);
                j.WriteNumber("opset", OnnxExporter.Opset);
                j.WriteNumber("inputs", loaded.InputCount);
                j.WriteStartArray("inputShape");
                loaded.InputShape.ToArray().ToList().ForEach(j.WriteNumberValue);
                j.WriteEndArray();
                j.WriteNumber("outputs", loaded.OutputCount);
                j.WriteStartArray("outputNames");
                outputs.ToList().ForEach(j.WriteStringValue);
                j.WriteEndArray();
            });
        }
        else
        {
            // The input as the graph declares it: [batch, 1, 28, 28] for images, [batch, inputs] for rows.
            stdout.WriteLine($"Wrote {path}: ONNX opset {OnnxExporter.Opset}, float32; input 'input' [batch, {string.Join(", ", loaded.InputShape.ToArray())}], "
                + string.Join(", ", outputs.Select(o => $"output '{o}' [batch, {loaded.OutputCount}]")));
        }
        return BackpropCli.Success;
    }
}
