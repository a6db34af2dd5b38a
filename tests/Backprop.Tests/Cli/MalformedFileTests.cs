using Backprop.Cli;
using Backprop.Serialization;
using Backprop.Tests.Data;
using Backprop.Tests.Serialization;
using static Backprop.Tests.Cli.CliHarness;
using static Backprop.Tests.Cli.ExecutableTests;

namespace Backprop.Tests.Cli;

/// <summary>
/// The readers' corpora of malformed files (Data/CsvCorpusTests, Data/IdxCorpusTests, model files)
/// given to the commands that read them: exit code 2, nothing on stdout, one line on stderr naming
/// the file and the place, never a stack trace.
/// </summary>
public sealed class MalformedFileTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    public static TheoryData<string> CsvNames => [.. CsvCorpusTests.Corpus.Where(e => e.Value.CliOptions is not null).Select(e => e.Key)];

    [Theory]
    [MemberData(nameof(CsvNames))]
    public void Train_names_the_csv_file_and_the_place(string name)
    {
        var entry = CsvCorpusTests.Corpus[name];
        var path = folder.File(name);
        File.WriteAllText(path, entry.Text);

        var message = AssertBadInput(Run(["--dataset", path, .. entry.CliOptions!.Split(' ', StringSplitOptions.RemoveEmptyEntries)]));

        Assert.Equal($"backprop: {path}{entry.Message}", message);
    }

    [Theory]
    [InlineData("train --data")]
    [InlineData("explain --data")]
    [InlineData("gradcheck --data")]
    [InlineData("graph --data")]
    [InlineData("evaluate --model MODEL --data")]
    [InlineData("predict --model MODEL --data")]
    public void Every_command_that_reads_csv_names_the_file_line_and_column(string command)
    {
        var model = folder.File("lesson.bpm");
        ModelFile.Save(ModelTestData.TrainedLesson(), model);
        var path = folder.File("nan.csv");
        File.WriteAllText(path, "x,y\n1,2\nNaN,3\n");

        var message = AssertBadInput(Run([.. command.Replace("MODEL", model, StringComparison.Ordinal).Split(' '), path]));

        Assert.Equal($"backprop: {path}:3:1: 'NaN' is not a finite number.", message);
    }

    [Fact]
    public void Layers_with_more_inputs_than_the_csv_has_name_both()
    {
        var path = folder.File("two-columns.csv");
        File.WriteAllText(path, "dose,effect\n0,0\n1,1\n");

        var message = AssertBadInput(Run("--data", path, "--layers", "3,2,1"));

        Assert.Equal("backprop: --layers starts with 3 inputs but the data (two-columns.csv) has 1 input column.", message);
    }

    [Theory]
    [InlineData("not-a-model", "not a Backprop model file (it does not start with BPMODEL).")]
    [InlineData("truncated", "the model file is truncated: 40 bytes, shorter than the 48 bytes of an empty model.")]
    [InlineData("changed", "checksum mismatch: the model file is corrupt or was changed after it was written.")]
    [InlineData("newer", "model format version 9 is newer than this Backprop reads (versions 1 to 2); upgrade Backprop.")]
    [InlineData("huge-header", "the header length 4294967295 does not fit in the file (")]
    public void Predict_evaluate_and_export_name_a_broken_model_file(string kind, string expected)
    {
        var good = ModelFile.ToBytes(ModelTestData.TrainedLesson());
        var bytes = kind switch
        {
            "not-a-model" => "Dosage,Efficacy\n0,0\n"u8.ToArray(),
            "truncated" => good[..40],
            "changed" => [.. good[..^40], (byte)(good[^40] ^ 1), .. good[^39..]],
            "newer" => [.. good[..8], 9, 0, 0, 0, .. good[12..]],
            _ => [.. good[..12], 0xFF, 0xFF, 0xFF, 0xFF, .. good[16..]],
        };
        var path = folder.File(kind + ".bpm");
        File.WriteAllBytes(path, bytes);

        foreach (var args in (string[][])[["predict", "--model", path, "--input", "1"], ["evaluate", "--model", path, "--dataset", "dosage"], ["export", "--model", path, "--onnx", folder.File("out.onnx")]])
        {
            var message = AssertBadInput(Run(args));
            Assert.StartsWith($"backprop: {path}: {expected}", message, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [Fact]
    public void Evaluate_refuses_class_labels_for_a_model_that_predicts_values()
    {
        var model = folder.File("lesson.bpm");
        ModelFile.Save(ModelTestData.TrainedLesson(), model);
        var path = folder.File("labels.csv");
        File.WriteAllText(path, "x,label\n1,cat\n2,dog\n");

        var message = AssertBadInput(Run("evaluate", "--model", model, "--data", path));

        Assert.Equal("backprop: The data (labels.csv) has class labels (cat, dog); the model predicts values, not classes.", message);
    }

    [Fact]
    public void A_folder_given_as_a_file_is_named_as_a_folder()
    {
        var message = AssertBadInput(Run("predict", "--model", folder.Path, "--input", "1"));

        Assert.Equal($"backprop: {folder.Path}: cannot read the model file: it is a folder, not a file.", message);
        Assert.Equal($"backprop: {folder.Path}: cannot read the file: it is a folder, not a file.", AssertBadInput(Run("--data", folder.Path)));
    }

    [Fact]
    public void Predict_on_a_file_without_line_breaks_stops_at_the_line_limit()
    {
        var model = folder.File("lesson.bpm");
        Assert.Equal(0, Run("--out", model, "--max-steps", "1").ExitCode);
        var noBreaks = folder.File("no-breaks.csv");
        File.WriteAllText(noBreaks, new string('7', (1 << 24) + 10));

        var message = AssertBadInput(Run("predict", "--model", model, "--data", noBreaks));

        Assert.Equal($"backprop: {noBreaks}:1: the line is longer than 16777216 characters; is this a CSV file?", message);
    }

    [Theory]
    [InlineData("png", "images")]
    [InlineData("claims-a-gigabyte", "images")]
    [InlineData("truncated-data", "labels")]
    public async Task Fashion_mnist_names_the_broken_idx_file_and_the_byte(string corpusName, string which)
    {
        var (bytes, message) = IdxCorpusTests.Corpus[corpusName];
        var images = folder.File("train-images-idx3-ubyte");
        var labels = folder.File("train-labels-idx1-ubyte");
        File.WriteAllBytes(images, which == "images" ? bytes : IdxFuzzTests.Idx(0x08, [2, 2, 2], new byte[8]));
        File.WriteAllBytes(labels, which == "labels" ? bytes : IdxFuzzTests.Idx(0x08, [2], [0, 1]));

        var run = await RunProcessAsync(new Dictionary<string, string> { [DataOptions.FashionMnistVariable] = folder.Path }, "--dataset", "fashion-mnist");

        Assert.Equal($"backprop: {(which == "images" ? images : labels)}{message}", AssertBadInput(run));
    }

    [Fact]
    public async Task Fashion_mnist_images_and_labels_that_disagree_are_named()
    {
        var images = folder.File("train-images-idx3-ubyte.gz");
        var labels = folder.File("train-labels-idx1-ubyte");
        File.WriteAllBytes(images, IdxFuzzTests.Gzip(IdxFuzzTests.Idx(0x08, [3, 2, 2], new byte[12])));
        File.WriteAllBytes(labels, IdxFuzzTests.Idx(0x08, [2], [0, 1]));

        var run = await RunProcessAsync(new Dictionary<string, string> { [DataOptions.FashionMnistVariable] = folder.Path }, "--dataset", "fashion-mnist");

        Assert.Equal($"backprop: {labels}: has 2 labels but {images} has 3 images.", AssertBadInput(run));
    }

    [Fact]
    public async Task A_fashion_mnist_folder_that_does_not_exist_is_named()
    {
        var missing = folder.File("nowhere");

        var run = await RunProcessAsync(new Dictionary<string, string> { [DataOptions.FashionMnistVariable] = missing }, "--dataset", "fashion-mnist");

        Assert.Equal($"backprop: BACKPROP_FASHION_MNIST names {missing}, which is not a folder.", AssertBadInput(run));
    }
}
