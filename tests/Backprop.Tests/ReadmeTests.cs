using System.Text.RegularExpressions;
using Backprop.Data;
using Backprop.Serialization;
using Backprop.Tests.Serialization;
using Backprop.Tests.TestUtil;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Backprop.Tests;

/// <summary>
/// The README's library example is real code: it is taken from README.md as it stands, compiled
/// with Roslyn against Backprop.dll, and run as a program of its own in an empty folder.
/// </summary>
public sealed partial class ReadmeTests
{
    private const string Marker = "<!-- snippet: library";

    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);

    private static string RepositoryFile(string name)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, name);
            if (File.Exists(path) && File.Exists(Path.Combine(folder.FullName, "Backprop.slnx")))
            {
                return path;
            }
        }
        throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The C# code block right after the library snippet marker.</summary>
    internal static string LibrarySnippet() => Snippet(Marker);

    /// <summary>The C# code block right after <paramref name="marker"/>.</summary>
    private static string Snippet(string marker)
    {
        var readme = File.ReadAllText(RepositoryFile("README.md"));
        var at = readme.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no '{marker}' snippet marker");
        var match = CodeBlock().Match(readme, at);
        Assert.True(match.Success, "no ```csharp block after the marker");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [Fact]
    public async Task The_readme_library_example_compiles_runs_saves_loads_predicts_and_exports()
    {
        using var folder = new TempFolder();
        var program = Compile(LibrarySnippet(), folder.Path);

        var (exitCode, stdout, stderr) = await RunAsync(program, folder.Path);

        Assert.True(exitCode == 0, $"exit code {exitCode}; stderr: {stderr}");
        Assert.Equal("", stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("step 100: SSR ", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^\d+ steps \(.+\); SSR [\d.eE+-]+ → [\d.eE+-]+$", lines[^2]);
        // The printed predictions are those of the saved model, loaded here independently.
        var saved = Model<double>.Load(folder.File("dosage.bpm"));
        var x = Datasets.Dosage.InputTensor<double>();
        Assert.Equal(saved.Predict(x).ToString(), lines[^1]);
        Assert.Equal(42UL, saved.Metadata.Seed);
        Assert.True(saved.Metadata.FinalLoss < 0.01, $"final SSR {saved.Metadata.FinalLoss}");
        var onnx = OnnxExportTests.RunOnnx(folder.File("dosage.onnx"), [0f, 0.5f, 1f], 1);
        OnnxExportTests.AssertClose([.. saved.Predict(x).ToDoubleArray().Select(v => (float)v)], onnx["output"]);
    }

    [Fact]
    public async Task The_readme_custom_module_example_compiles_and_trains_its_residual_blocks()
    {
        using var folder = new TempFolder();
        var program = Compile(Snippet("<!-- snippet: custom-module"), folder.Path);

        var (exitCode, stdout, stderr) = await RunAsync(program, folder.Path);

        Assert.True(exitCode == 0, $"exit code {exitCode}; stderr: {stderr}");
        Assert.Equal("", stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var summary = Regex.Match(lines[0], @"^(\d+) parameters, 240 steps: loss ([\d.]+) → ([\d.]+), accuracy ([\d.]+)$");
        Assert.True(summary.Success, lines[0]);
        // Two blocks of two 32 × 32 dense layers and a 32-feature batch norm, between 2 → 32 and 32 → 2.
        Assert.Equal((2 * 32) + 32 + (2 * ((2 * ((32 * 32) + 32)) + 64)) + (32 * 2) + 2, int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        var (before, after, accuracy) = (Parse(summary.Groups[2].Value), Parse(summary.Groups[3].Value), Parse(summary.Groups[4].Value));
        Assert.True(after < before / 3, lines[0]);
        Assert.True(accuracy >= 0.95, lines[0]);
        Assert.Equal("layer1.1.runningMean, layer1.1.runningVar, layer2.1.runningMean, layer2.1.runningVar", lines[1]);

        static double Parse(string s) => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Compiles top-level statements into a program beside Backprop.dll; returns its path.</summary>
    private static string Compile(string code, string folder)
    {
        var framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = Directory.GetFiles(framework, "*.dll")
            .Where(IsManagedAssembly)
            .Concat([typeof(Model<>).Assembly.Location, typeof(System.Numerics.Tensors.TensorPrimitives).Assembly.Location])
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create(
            "ReadmeSnippet",
            [
                CSharpSyntaxTree.ParseText(code, Parse),
                // What a console project's implicit usings give it.
                CSharpSyntaxTree.ParseText("global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq;", Parse),
            ],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        var program = Path.Combine(folder, "ReadmeSnippet.dll");
        var emitted = compilation.Emit(program);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.True(emitted.Success && problems.Count == 0, string.Join("\n", problems));
        var version = Environment.Version.ToString(3);
        File.WriteAllText(
            Path.Combine(folder, "ReadmeSnippet.runtimeconfig.json"),
            "{\"runtimeOptions\": {\"tfm\": \"net10.0\", \"framework\": {\"name\": \"Microsoft.NETCore.App\", \"version\": \"" + version + "\"}}}");
        foreach (var dependency in (string[])[typeof(Model<>).Assembly.Location, typeof(System.Numerics.Tensors.TensorPrimitives).Assembly.Location])
        {
            File.Copy(dependency, Path.Combine(folder, Path.GetFileName(dependency)));
        }
        return program;
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            _ = System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, string folder)
    {
        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(program, [], TimeSpan.FromMinutes(5), start => start.WorkingDirectory = folder);
        return (exitCode, stdout.ReplaceLineEndings("\n"), stderr);
    }
}
