using System.Text;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Serialization;

/// <summary>Checkpoint files give back every number of the state, and every broken one gives one line.</summary>
public sealed class CheckpointFileTests
{
    private static readonly string[] Command = ["--layers", "1,3,1", "--optimizer", "adam", "--data", "/data/with space.csv"];

    private static Checkpoint<T> Captured<T>(int steps = 5) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var network = Sequential<T>.Mlp([1, 3, 1], Activation.Tanh, Activation.Identity);
        new XavierInitializer(seed: 4).Initialize(network);
        var trainer = new Trainer<T>(network, new MeanSquaredError(), new Adam<T>(network.Parameters(), 0.01));
        var x = new Tensor<T>(new Shape(6, 1));
        var y = new Tensor<T>(new Shape(6, 1));
        for (var i = 0; i < 6; i++)
        {
            x[i, 0] = T.CreateChecked(i / 6.0);
            y[i, 0] = T.CreateChecked(Math.Sin(i));
        }
        trainer.Fit(x, y, new TrainingOptions { MaxSteps = steps, MinStepSize = null, BatchSize = 4, ShuffleSeed = 8 });
        return new Checkpoint<T>(trainer.CaptureState(), Command, "sha256:abc");
    }

    private static string LoadError(byte[] bytes)
    {
        using var folder = new TempFolder();
        var path = folder.File("broken.ckpt");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<BackpropException>(() => Checkpoint.Load(path));
        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        return error.Message[(path.Length + 2)..];
    }

    [Fact]
    public void A_saved_checkpoint_loads_back_with_every_number_and_setting()
    {
        using var folder = new TempFolder();
        var saved = Captured<double>();
        saved.Save(folder.File("run.ckpt"));

        var loaded = Assert.IsType<Checkpoint<double>>(Checkpoint.Load(folder.File("run.ckpt")));

        Assert.Equal(Command, loaded.Command);
        Assert.Equal("sha256:abc", loaded.DataFingerprint);
        Assert.Equal("float64", loaded.ElementType);
        var (a, b) = (saved.State, loaded.State);
        Assert.Equal((a.Steps, a.Epoch, a.InitialLoss, a.BatchPosition, a.Finished, a.ShuffleRng), (b.Steps, b.Epoch, b.InitialLoss, b.BatchPosition, b.Finished, b.ShuffleRng));
        Assert.Equal(a.LossHistory, b.LossHistory);
        Assert.Equal(a.ShuffleOrder, b.ShuffleOrder);
        Assert.Equal(a.Parameters.Select(p => p.Key), b.Parameters.Select(p => p.Key));
        Assert.Equal(a.Parameters.SelectMany(p => p.Value), b.Parameters.SelectMany(p => p.Value));
        Assert.Equal((a.Optimizer.Name, a.Optimizer.StepCount, a.Optimizer.LastMaxStepSize), (b.Optimizer.Name, b.Optimizer.StepCount, b.Optimizer.LastMaxStepSize));
        Assert.Equal(a.Optimizer.Arrays.Select(p => p.Key), b.Optimizer.Arrays.Select(p => p.Key));
        Assert.Equal(a.Optimizer.Arrays.SelectMany(p => p.Value), b.Optimizer.Arrays.SelectMany(p => p.Value));
        Assert.Equal(CheckpointFile.ToBytes(saved)[..16], CheckpointFile.ToBytes(loaded)[..16]);
    }

    [Fact]
    public void A_float_run_loads_as_a_float_checkpoint()
    {
        var bytes = CheckpointFile.ToBytes(Captured<float>());

        var loaded = Assert.IsType<Checkpoint<float>>(CheckpointFile.FromBytes(bytes, "f.ckpt"));

        Assert.Equal("float32", loaded.ElementType);
        Assert.Equal(5, loaded.Steps);
    }

    [Fact]
    public void A_checkpoint_starts_with_its_magic_and_version()
    {
        var bytes = CheckpointFile.ToBytes(Captured<double>());

        Assert.Equal("BPCHKPT\0"u8.ToArray(), bytes[..8]);
        Assert.Equal(2, BitConverter.ToInt32(bytes, 8));
    }

    [Fact]
    public void Every_broken_checkpoint_gives_one_line()
    {
        var good = CheckpointFile.ToBytes(Captured<double>());
        var flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x10;
        var newer = (byte[])good.Clone();
        newer[8] = 3;

        Assert.Equal("not a Backprop checkpoint (it does not start with BPCHKPT).", LoadError(Encoding.UTF8.GetBytes("hello, world")));
        Assert.Equal("not a Backprop checkpoint (it does not start with BPCHKPT).", LoadError([]));
        Assert.StartsWith("this is a model file, not a checkpoint", LoadError(ModelFile.ToBytes(ModelTestData.TrainedLesson())), StringComparison.Ordinal);
        Assert.Equal("checksum mismatch: the checkpoint is corrupt or was changed after it was written.", LoadError(flipped));
        Assert.StartsWith("the checkpoint is truncated", LoadError(good[..20]), StringComparison.Ordinal);
        Assert.StartsWith("the header length", LoadError(good[..100]), StringComparison.Ordinal);
        Assert.StartsWith("checkpoint format version 3 is newer than this Backprop reads (versions 1 to 2)", LoadError(newer), StringComparison.Ordinal);
    }

    // A run with early stopping that restores the best weights, stopped after 4 epochs of 2 steps.
    private static Checkpoint<T> WithEarlyStopping<T>(double[] metric) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var network = Sequential<T>.Mlp([1, 3, 1], Activation.Tanh, Activation.Identity);
        new XavierInitializer(seed: 4).Initialize(network);
        var trainer = new Trainer<T>(network, new MeanSquaredError(), new Adam<T>(network.Parameters(), 0.01));
        var x = new Tensor<T>(new Shape(6, 1));
        var y = new Tensor<T>(new Shape(6, 1));
        var epoch = 0;
        var stopper = new EarlyStopping<T>(_ => metric[epoch++], patience: 10, restoreBestWeights: true);
        trainer.Fit(x, y, new TrainingOptions { Epochs = metric.Length, BatchSize = 3 }, [stopper]);
        return new Checkpoint<T>(trainer.CaptureState(), Command, null);
    }

    [Fact]
    public void Early_stoppings_state_is_saved_and_loaded_with_its_best_weights()
    {
        var saved = WithEarlyStopping<float>([0.5, 0.25, 0.375, double.PositiveInfinity]);

        var loaded = Assert.IsType<Checkpoint<float>>(CheckpointFile.FromBytes(CheckpointFile.ToBytes(saved), "e.ckpt"));

        var (name, state) = Assert.Single(loaded.State.Monitors);
        Assert.Equal("earlyStopping", name);
        KeyValuePair<string, double>[] numbers = [new("best", 0.25), new("bestEpoch", 2), new("wait", 2), new("epochs", 4), new("stoppedEpoch", 0)];
        Assert.Equal(numbers, state.Numbers);
        Assert.Equal(["bestWeights/layer0.weight", "bestWeights/layer0.bias", "bestWeights/layer1.weight", "bestWeights/layer1.bias"], state.Arrays.Select(a => a.Key));
        Assert.Equal(saved.State.Monitors[0].Value.Arrays.SelectMany(a => a.Value), state.Arrays.SelectMany(a => a.Value));
        Assert.Equal(CheckpointFile.ToBytes(saved)[..16], CheckpointFile.ToBytes(loaded)[..16]);
    }

    [Fact]
    public void A_best_value_that_is_not_finite_round_trips_as_text()
    {
        var saved = WithEarlyStopping<double>([double.NaN]);

        var loaded = Assert.IsType<Checkpoint<double>>(CheckpointFile.FromBytes(CheckpointFile.ToBytes(saved), "e.ckpt"));

        var state = Assert.Single(loaded.State.Monitors).Value;
        Assert.True(double.IsNaN(state.Number("best")));
        Assert.Equal(0, state.Count("bestEpoch"));
        Assert.Empty(state.Arrays);
    }

    [Fact]
    public void A_version_1_checkpoint_without_monitors_is_still_read()
    {
        var bytes = CheckpointFile.ToBytes(Captured<double>());
        var (header, payload) = FileFrame.Open(bytes, "v2", 2, new FrameWords("checkpoint", "checkpoint", "an empty one", "the checkpoint"));
        var old = FileFrame.Assemble(CheckpointFile.Magic, 1, header.ToArray(), payload.ToArray());

        var loaded = Assert.IsType<Checkpoint<double>>(CheckpointFile.FromBytes(old, "old.ckpt"));

        Assert.Equal(5, loaded.Steps);
        Assert.Empty(loaded.State.Monitors);
    }

    [Fact]
    public void Broken_monitor_states_give_one_line_each()
    {
        static string Header(string monitors, string arrays = "") => $$"""
            { "format": "backprop-checkpoint", "formatVersion": 2, "elementType": "float64", "command": [], "steps": 0, "epoch": 1,
              "initialLoss": 1, "batchPosition": 0, "shuffleRng": { "state": ["1", "2", "3", "4"] }, "optimizer": { "name": "gd", "stepCount": 0, "lastMaxStepSize": 0 },
              {{monitors}}
              "arrays": [ {{arrays}} { "name": "lossHistory", "type": "float64", "shape": [0] }, { "name": "shuffleOrder", "type": "int32", "shape": [0] } ] }
            """;

        Assert.Equal("invalid checkpoint: \"monitors\" is not an object of named monitor states.", LoadError(CheckpointAssemble(Header("\"monitors\": 3,"))));
        Assert.Equal("invalid checkpoint: monitors.earlyStopping.best is not a number (or \"NaN\", \"Infinity\", \"-Infinity\").", LoadError(CheckpointAssemble(Header("\"monitors\": { \"earlyStopping\": { \"best\": \"low\" } },"))));
        Assert.Equal("invalid checkpoint: array 'monitor/earlyStopping/x' belongs to no monitor in \"monitors\".", LoadError(CheckpointAssemble(Header("", "{ \"name\": \"monitor/earlyStopping/x\", \"type\": \"float64\", \"shape\": [0] },"))));
        Assert.Equal("invalid checkpoint: array 'monitor/x' is not named monitor/NAME/KEY.", LoadError(CheckpointAssemble(Header("", "{ \"name\": \"monitor/x\", \"type\": \"float64\", \"shape\": [0] },"))));
    }

    [Fact]
    public void Sizes_claimed_by_the_header_are_checked_against_the_file_before_anything_is_allocated()
    {
        // A valid preamble and checksum around a header that claims an array of two billion doubles.
        var header = """
            { "format": "backprop-checkpoint", "formatVersion": 1, "elementType": "float64",
              "arrays": [ { "name": "parameter/layer0.weight", "type": "float64", "shape": [2000000000] } ] }
            """;
        var bytes = CheckpointAssemble(header);
        var before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal("invalid checkpoint: the arrays need 16000000000 bytes but the file holds 0.", LoadError(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
    }

    [Fact]
    public void A_header_that_is_not_a_checkpoints_is_refused()
    {
        Assert.StartsWith("invalid checkpoint: the header does not say \"format\": \"backprop-checkpoint\"", LoadError(CheckpointAssemble("""{ "format": "backprop-model" }""")), StringComparison.Ordinal);
        Assert.StartsWith("the checkpoint header is not valid JSON", LoadError(CheckpointAssemble("{ nope")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_end_a_folder_and_a_header_that_is_not_utf8_get_one_line_each()
    {
        if (File.Exists("/dev/zero"))
        {
            Assert.Equal("/dev/zero: not a Backprop checkpoint (it does not start with BPCHKPT).",
                Assert.Throws<BackpropException>(() => CheckpointFile.Load("/dev/zero")).Message);
        }
        using var folder = new TempFolder();
        Assert.Equal($"{folder.Path}: cannot read the checkpoint: it is a folder, not a file.",
            Assert.Throws<BackpropException>(() => CheckpointFile.Load(folder.Path)).Message);
        var bytes = FileFrame.Assemble(CheckpointFile.Magic, 1, [(byte)'{', 0xC3, (byte)'}'], []);
        Assert.Equal("the checkpoint header is not valid UTF-8 at byte 17.", LoadError(bytes));
    }

    [Fact]
    public void A_number_that_is_not_finite_is_refused_though_the_checksum_matches()
    {
        var good = CheckpointFile.ToBytes(Captured<double>());
        var headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(good.AsSpan(12));
        var header = good[16..(16 + headerLength)];
        var payload = good[(16 + headerLength)..^32];
        var nan = (byte[])payload.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(nan, double.NaN);
        var infinite = (byte[])payload.Clone();
        // The 1-3-1 network's parameters are 10 numbers; Adam's first moments come next.
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(infinite.AsSpan(80), double.PositiveInfinity);

        Assert.Equal("invalid checkpoint: array 'parameter/layer0.weight' holds NaN at element 1; a checkpoint's numbers are finite.", LoadError(FileFrame.Assemble(CheckpointFile.Magic, 1, header, nan)));
        Assert.Equal("invalid checkpoint: array 'optimizer/m/layer0.weight' holds Infinity at element 1; a checkpoint's numbers are finite.", LoadError(FileFrame.Assemble(CheckpointFile.Magic, 1, header, infinite)));
    }

    [Theory]
    [InlineData("\"initialLoss\": [^,]+,", "\"initialLoss\": \"NaN\",", "\"initialLoss\" is not a finite number.")]
    [InlineData("\"initialLoss\": [^,]+,", "\"initialLoss\": \"1\",", "\"initialLoss\" is not a finite number.")]
    [InlineData("\"initialLoss\": [^,]+,", "\"initialLoss\": 1e400,", "\"initialLoss\" is not a finite number.")]
    [InlineData("\"lastMaxStepSize\": [^,\\n]+", "\"lastMaxStepSize\": \"Infinity\"", "\"lastMaxStepSize\" is not a finite number.")]
    [InlineData("\"steps\": 5", "\"steps\": \"5\"", "\"steps\" is not a whole number ≥ 0.")]
    [InlineData("\"batchPosition\": [0-9]+", "\"batchPosition\": 2.5", "\"batchPosition\" is not a whole number ≥ 0.")]
    [InlineData("\"shape\": \\[\\s*3", "\"shape\": [\"3\"", "array 'parameter/layer0.weight' must have a shape of one whole number ≥ 0.")]
    public void Numbers_given_as_text_or_out_of_range_are_refused(string pattern, string replacement, string expected)
    {
        var good = CheckpointFile.ToBytes(Captured<double>());
        var headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(good.AsSpan(12));
        var header = Encoding.UTF8.GetString(good, 16, headerLength);
        var edited = new System.Text.RegularExpressions.Regex(pattern).Replace(header, replacement, 1);
        Assert.NotEqual(header, edited);

        Assert.Equal("invalid checkpoint: " + expected, LoadError(FileFrame.Assemble(CheckpointFile.Magic, 1, Encoding.UTF8.GetBytes(edited), good[(16 + headerLength)..^32])));
    }

    private static byte[] CheckpointAssemble(string header) => FileFrame.Assemble(CheckpointFile.Magic, 1, Encoding.UTF8.GetBytes(header), []);
}
