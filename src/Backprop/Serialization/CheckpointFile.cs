using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Serialization;

/// <summary>
/// Backprop's checkpoint file, format version 2 (docs/model-format.md, "Checkpoint files"): the model
/// file's layout — magic bytes (here <c>BPCHKPT\0</c>), version, header length, a UTF-8 JSON header,
/// little-endian arrays, SHA-256 — holding a <see cref="Checkpoint"/>.
/// </summary>
/// <remarks>
/// As for model files, the checksum is checked before anything is interpreted and every array's size
/// is added up from the header and compared with the file's real size before anything is allocated.
/// Version 2 adds the monitors' states (early stopping's); version 1 files are still read (they hold none).
/// </remarks>
public static class CheckpointFile
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 2;

    /// <summary>The oldest format version this library reads.</summary>
    public const int OldestFormatVersion = 1;

    /// <summary>The file's first eight bytes.</summary>
    public static ReadOnlySpan<byte> Magic => "BPCHKPT\0"u8;

    private static readonly FrameWords Words = new("checkpoint", "checkpoint", "an empty one", "the checkpoint");
    private const string ParameterPrefix = "parameter/";
    private const string OptimizerPrefix = "optimizer/";
    private const string BufferPrefix = "buffer/";
    private const string MonitorPrefix = "monitor/";
    private const string LossHistory = "lossHistory";
    private const string ShuffleOrder = "shuffleOrder";

    /// <summary>Saves <paramref name="checkpoint"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public static void Save(Checkpoint checkpoint, string path)
    {
        var bytes = ToBytes(checkpoint);
        AtomicFile.Write(path, "checkpoint", bytes);
    }

    /// <summary>The whole file's bytes for <paramref name="checkpoint"/>.</summary>
    public static byte[] ToBytes(Checkpoint checkpoint) => checkpoint switch
    {
        Checkpoint<float> f => ToBytes(f),
        Checkpoint<double> d => ToBytes(d),
        null => throw new ArgumentNullException(nameof(checkpoint)),
        _ => throw new ArgumentException("Checkpoints hold float or double runs.", nameof(checkpoint)),
    };

    private static byte[] ToBytes<T>(Checkpoint<T> checkpoint) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var state = checkpoint.State;
        var type = checkpoint.ElementType;
        var arrays = new List<(string Name, string Type, int Count)>();
        using var payload = new MemoryStream();
        foreach (var (name, values) in state.Parameters)
        {
            arrays.Add((ParameterPrefix + name, type, values.Length));
            FileFrame.WriteValues<T>(payload, values);
        }
        foreach (var (name, values) in state.Buffers)
        {
            arrays.Add((BufferPrefix + name, type, values.Length));
            FileFrame.WriteValues<T>(payload, values);
        }
        foreach (var (name, values) in state.Optimizer.Arrays)
        {
            arrays.Add((OptimizerPrefix + name, type, values.Length));
            FileFrame.WriteValues<T>(payload, values);
        }
        foreach (var (monitor, saved) in state.Monitors)
        {
            foreach (var (name, values) in saved.Arrays)
            {
                arrays.Add((MonitorPrefix + monitor + "/" + name, type, values.Length));
                FileFrame.WriteValues<T>(payload, values);
            }
        }
        arrays.Add((LossHistory, "float64", state.LossHistory.Count));
        FileFrame.WriteValues<double>(payload, [.. state.LossHistory]);
        arrays.Add((ShuffleOrder, "int32", state.ShuffleOrder.Count));
        Span<byte> four = stackalloc byte[4];
        foreach (var i in state.ShuffleOrder)
        {
            BinaryPrimitives.WriteInt32LittleEndian(four, i);
            payload.Write(four);
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", "backprop-checkpoint");
            json.WriteNumber("formatVersion", FormatVersion);
            json.WriteString("elementType", type);
            json.WriteString("libraryVersion", ModelMetadata.CurrentLibraryVersion);
            json.WriteString("created", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteStartArray("command");
            foreach (var arg in checkpoint.Command)
            {
                json.WriteStringValue(arg);
            }
            json.WriteEndArray();
            if (checkpoint.DataFingerprint is { } fingerprint)
            {
                json.WriteString("dataFingerprint", fingerprint);
            }
            json.WriteNumber("steps", state.Steps);
            json.WriteNumber("epoch", state.Epoch);
            WriteDouble(json, "initialLoss", state.InitialLoss);
            json.WriteNumber("batchPosition", state.BatchPosition);
            // The loss history is bounded (every k-th loss and the latest): its k and how many losses it has seen.
            json.WriteNumber("lossHistoryInterval", state.LossHistory.Interval);
            json.WriteNumber("lossHistoryCount", state.LossHistory.TotalCount);
            if (state.Finished is { } finished)
            {
                json.WriteString("finished", finished.ToString());
            }
            json.WritePropertyName("shuffleRng");
            WriteRng(json, state.ShuffleRng);
            if (state.Generators.Count > 0)
            {
                // The network's own generators (Dropout's masks), by name.
                json.WriteStartObject("generators");
                foreach (var (name, generator) in state.Generators)
                {
                    json.WritePropertyName(name);
                    WriteRng(json, generator);
                }
                json.WriteEndObject();
            }
            if (state.Monitors.Count > 0)
            {
                // The monitors' numbers (early stopping's best value, wait…), by monitor; their arrays are monitor/NAME/….
                json.WriteStartObject("monitors");
                foreach (var (monitor, saved) in state.Monitors)
                {
                    json.WriteStartObject(monitor);
                    foreach (var (name, value) in saved.Numbers)
                    {
                        if (double.IsFinite(value))
                        {
                            json.WriteNumber(name, value);
                        }
                        else
                        {
                            // NOTE: JSON has no NaN or infinity; a best value before the first epoch is NaN.
                            json.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
                        }
                    }
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteStartObject("optimizer");
            json.WriteString("name", state.Optimizer.Name);
            json.WriteNumber("stepCount", state.Optimizer.StepCount);
            WriteDouble(json, "lastMaxStepSize", state.Optimizer.LastMaxStepSize);
            json.WriteEndObject();
            json.WriteStartArray("arrays");
            foreach (var (name, arrayType, count) in arrays)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteString("type", arrayType);
                json.WriteStartArray("shape");
                json.WriteNumberValue(count);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return FileFrame.Assemble(Magic, FormatVersion, buffer.ToArray(), payload.ToArray());
    }

    /// <summary>Loads the checkpoint at <paramref name="path"/>.</summary>
    /// <exception cref="BackpropException">The file is missing, unreadable, not a checkpoint, of a newer format, corrupt or inconsistent.</exception>
    public static Checkpoint Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = FileFrame.ReadFile(path, Magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw FileErrors.CannotRead(path, "checkpoint", e);
        }
        return FromBytes(bytes, path);
    }

    /// <summary>Reads a checkpoint from a file's bytes; <paramref name="source"/> names the file in messages.</summary>
    /// <exception cref="BackpropException">The bytes are not a valid checkpoint.</exception>
    public static Checkpoint FromBytes(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new BackpropException(bytes.AsSpan().StartsWith(ModelFile.Magic)
                ? $"{source}: this is a model file, not a checkpoint; checkpoints are written by 'backprop train' when it is interrupted or with --checkpoint-every."
                : $"{source}: not a Backprop checkpoint (it does not start with BPCHKPT).");
        }
        var (header, payload, _) = FileFrame.Open(bytes, source, OldestFormatVersion, FormatVersion, Words);
        try
        {
            using var document = JsonDocument.Parse(header);
            var reader = new Reader(source, document.RootElement, payload);
            return reader.ElementType == "float32" ? reader.Read<float>() : reader.Read<double>();
        }
        catch (JsonException e)
        {
            throw new BackpropException($"{source}: the checkpoint header is not valid JSON: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    private static void WriteRng(Utf8JsonWriter json, RngState rng)
    {
        json.WriteStartObject();
        json.WriteStartArray("state");
        foreach (var word in new[] { rng.S0, rng.S1, rng.S2, rng.S3 })
        {
            // NOTE: strings, because JSON readers commonly lose precision above 2^53.
            json.WriteStringValue(word.ToString("x16", CultureInfo.InvariantCulture));
        }
        json.WriteEndArray();
        if (rng.SpareNormal is { } spare)
        {
            WriteDouble(json, "spareNormal", spare);
        }
        json.WriteEndObject();
    }

    // NOTE: JSON has no NaN or infinity: a number that is not finite (only a starting loss can be) is written as null.
    private static void WriteDouble(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>Interprets a header whose checksum has been verified, then the arrays it describes.</summary>
    private sealed class Reader(string source, JsonElement root, ReadOnlyMemory<byte> payload)
    {
        public string ElementType { get; } = root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String && f.GetString() == "backprop-checkpoint"
            && root.TryGetProperty("elementType", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is "float32" or "float64"
                ? t.GetString()!
                : throw new BackpropException($"{source}: invalid checkpoint: the header does not say \"format\": \"backprop-checkpoint\" with an \"elementType\" of float32 or float64.");

        public Checkpoint<T> Read<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            // Sizes first, from the header alone and in 64-bit arithmetic: nothing is allocated until they match the file.
            var specs = new List<(string Name, string Type, int Count)>();
            long total = 0;
            foreach (var spec in Array(root, "arrays").EnumerateArray())
            {
                var name = String(spec, "name");
                var type = String(spec, "type");
                long width = type switch
                {
                    "float32" or "int32" => 4,
                    "float64" => 8,
                    _ => throw Bad($"array '{name}' has type '{type}'; a checkpoint holds float32, float64 or int32"),
                };
                var shape = Array(spec, "shape");
                if (shape.GetArrayLength() != 1 || shape[0].ValueKind != JsonValueKind.Number || !shape[0].TryGetInt32(out var count) || count < 0)
                {
                    throw Bad($"array '{name}' must have a shape of one whole number ≥ 0");
                }
                specs.Add((name, type, count));
                total += width * count;
            }
            var bytes = payload.Span;
            if (total != bytes.Length)
            {
                throw Bad($"the arrays need {total} bytes but the file holds {bytes.Length}");
            }
            var parameters = new List<KeyValuePair<string, T[]>>();
            var optimizerArrays = new List<KeyValuePair<string, T[]>>();
            var buffers = new List<KeyValuePair<string, T[]>>();
            var monitorArrays = new List<(string Monitor, string Name, T[] Values)>();
            double[]? history = null;
            int[]? order = null;
            var offset = 0;
            foreach (var (name, type, count) in specs)
            {
                var size = (type == "float64" ? 8 : 4) * count;
                var slice = bytes.Slice(offset, size);
                offset += size;
                var isMonitor = name.StartsWith(MonitorPrefix, StringComparison.Ordinal);
                if (isMonitor || name.StartsWith(ParameterPrefix, StringComparison.Ordinal) || name.StartsWith(OptimizerPrefix, StringComparison.Ordinal) || name.StartsWith(BufferPrefix, StringComparison.Ordinal))
                {
                    if (type != ElementType)
                    {
                        throw Bad($"array '{name}' is {type} in a {ElementType} checkpoint");
                    }
                    var values = new T[count];
                    if (BitConverter.IsLittleEndian)
                    {
                        // The array's type is the checkpoint's element type, T: the bytes are the numbers.
                        slice.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
                    }
                    else
                    {
                        for (var i = 0; i < count; i++)
                        {
                            values[i] = type == "float32"
                                ? T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(slice[(i * 4)..]))
                                : T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(slice[(i * 8)..]));
                        }
                    }
                    // The model reader's rule: a saved number is finite (a run never keeps a NaN or ∞ parameter, buffer or state).
                    if (FileFrame.FirstNonFinite<T>(values) is var bad and >= 0)
                    {
                        throw Bad($"array '{name}' holds {double.CreateTruncating(values[bad]).ToString(CultureInfo.InvariantCulture)} at element {bad + 1}; a checkpoint's numbers are finite");
                    }
                    if (isMonitor)
                    {
                        // monitor/NAME/KEY: the monitor's name has no '/', its array's key may.
                        var rest = name[MonitorPrefix.Length..];
                        var slash = rest.IndexOf('/', StringComparison.Ordinal);
                        if (slash <= 0 || slash == rest.Length - 1)
                        {
                            throw Bad($"array '{name}' is not named monitor/NAME/KEY");
                        }
                        monitorArrays.Add((rest[..slash], rest[(slash + 1)..], values));
                        continue;
                    }
                    var list = name.StartsWith(ParameterPrefix, StringComparison.Ordinal) ? parameters
                        : name.StartsWith(BufferPrefix, StringComparison.Ordinal) ? buffers
                        : optimizerArrays;
                    list.Add(new(name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..], values));
                }
                else if (name == LossHistory && type == "float64" && history is null)
                {
                    history = new double[count];
                    for (var i = 0; i < count; i++)
                    {
                        history[i] = BinaryPrimitives.ReadDoubleLittleEndian(slice[(i * 8)..]);
                        if (!double.IsFinite(history[i]))
                        {
                            throw Bad($"array '{name}' holds {history[i].ToString(CultureInfo.InvariantCulture)} at element {i + 1}; a checkpoint's numbers are finite");
                        }
                    }
                }
                else if (name == ShuffleOrder && type == "int32" && order is null)
                {
                    order = new int[count];
                    for (var i = 0; i < count; i++)
                    {
                        order[i] = BinaryPrimitives.ReadInt32LittleEndian(slice[(i * 4)..]);
                    }
                }
                else
                {
                    throw Bad($"unexpected array '{name}' ({type})");
                }
            }
            var shuffleRng = ReadRng(Object(root, "shuffleRng"), "shuffleRng");
            var generators = new List<KeyValuePair<string, RngState>>();
            if (root.TryGetProperty("generators", out var g))
            {
                if (g.ValueKind != JsonValueKind.Object)
                {
                    throw Bad("\"generators\" is not an object of named generators");
                }
                foreach (var generator in g.EnumerateObject())
                {
                    generators.Add(new(generator.Name, ReadRng(generator.Value, $"generators.{generator.Name}")));
                }
            }
            var optimizer = Object(root, "optimizer");
            StopReason? finished = null;
            if (root.TryGetProperty("finished", out var fin))
            {
                finished = fin.ValueKind == JsonValueKind.String && Enum.TryParse<StopReason>(fin.GetString(), out var r) && Enum.IsDefined(r)
                    ? r
                    : throw Bad("\"finished\" is not a stopping reason");
            }
            var state = new TrainingState<T>
            {
                Steps = Int(root, "steps"),
                Epoch = Int(root, "epoch"),
                InitialLoss = Double(root, "initialLoss", nullIsNaN: true),
                LossHistory = ReadHistory(history ?? throw Bad($"there is no {LossHistory} array")),
                ShuffleRng = shuffleRng,
                ShuffleOrder = order ?? throw Bad($"there is no {ShuffleOrder} array"),
                BatchPosition = Int(root, "batchPosition"),
                Finished = finished,
                Optimizer = new OptimizerState<T>(String(optimizer, "name"), Int(optimizer, "stepCount"), Double(optimizer, "lastMaxStepSize"), optimizerArrays),
                Parameters = parameters,
                Buffers = buffers,
                Generators = generators,
                Monitors = ReadMonitors(monitorArrays),
            };
            var command = Array(root, "command").EnumerateArray()
                .Select(a => a.ValueKind == JsonValueKind.String ? a.GetString()! : throw Bad("\"command\" is not a list of text")).ToList();
            var fingerprint = root.TryGetProperty("dataFingerprint", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            return new Checkpoint<T>(state, command, fingerprint);
        }

        // The "monitors" object's numbers, with each monitor's arrays (monitor/NAME/KEY) in file order.
        private List<KeyValuePair<string, MonitorState<T>>> ReadMonitors<T>(List<(string Monitor, string Name, T[] Values)> arrays) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var monitors = new List<KeyValuePair<string, MonitorState<T>>>();
            if (root.TryGetProperty("monitors", out var m))
            {
                if (m.ValueKind != JsonValueKind.Object)
                {
                    throw Bad("\"monitors\" is not an object of named monitor states");
                }
                foreach (var monitor in m.EnumerateObject())
                {
                    if (monitor.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw Bad($"monitors.{monitor.Name} is not an object of numbers");
                    }
                    var numbers = new List<KeyValuePair<string, double>>();
                    foreach (var n in monitor.Value.EnumerateObject())
                    {
                        double value = n.Value.ValueKind == JsonValueKind.Number && n.Value.TryGetDouble(out var d) && double.IsFinite(d) ? d
                            : n.Value.ValueKind == JsonValueKind.String && n.Value.GetString() is "NaN" or "Infinity" or "-Infinity" ? double.Parse(n.Value.GetString()!, CultureInfo.InvariantCulture)
                            : throw Bad($"monitors.{monitor.Name}.{n.Name} is not a number (or \"NaN\", \"Infinity\", \"-Infinity\")");
                        numbers.Add(new(n.Name, value));
                    }
                    var own = arrays.Where(a => a.Monitor == monitor.Name).Select(a => new KeyValuePair<string, T[]>(a.Name, a.Values)).ToList();
                    monitors.Add(new(monitor.Name, new MonitorState<T> { Numbers = numbers, Arrays = own }));
                }
            }
            if (arrays.FirstOrDefault(a => !monitors.Any(s => s.Key == a.Monitor)) is { Monitor: { } orphan } stray)
            {
                throw Bad($"array 'monitor/{orphan}/{stray.Name}' belongs to no monitor in \"monitors\"");
            }
            return monitors;
        }

        // Checkpoints written before the history was bounded hold every loss (and no interval).
        private Training.LossHistory ReadHistory(double[] kept)
        {
            if (!root.TryGetProperty("lossHistoryInterval", out _))
            {
                return Training.LossHistory.Of(kept);
            }
            var (interval, count) = (Int(root, "lossHistoryInterval"), Int(root, "lossHistoryCount"));
            return Training.LossHistory.Restore(kept, interval, count)
                ?? throw Bad($"the loss history of {kept.Length} losses does not fit lossHistoryInterval {interval} and lossHistoryCount {count}");
        }

        private RngState ReadRng(JsonElement rng, string what)
        {
            if (rng.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"{what} is not an object");
            }
            var words = Array(rng, "state").EnumerateArray().Select(w => w.ValueKind == JsonValueKind.String
                && ulong.TryParse(w.GetString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v : throw Bad($"{what}.state holds something other than hexadecimal words")).ToArray();
            if (words.Length != 4 || words.All(w => w == 0))
            {
                throw Bad($"{what}.state must be four hexadecimal words, not all zero");
            }
            return new RngState(words[0], words[1], words[2], words[3], rng.TryGetProperty("spareNormal", out _) ? Double(rng, "spareNormal") : null);
        }

        private string String(JsonElement e, string name)
            => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()!
                : throw Bad($"the header has no text field \"{name}\" where one is needed");

        private int Int(JsonElement e, string name)
            => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i >= 0
                ? i
                : throw Bad($"\"{name}\" is not a whole number ≥ 0");

        // A finite JSON number: never text ("NaN"), which a hand-edited file could slip past a reader that parsed it.
        private double Double(JsonElement e, string name, bool nullIsNaN = false)
        {
            if (e.TryGetProperty(name, out var v))
            {
                if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d))
                {
                    return d;
                }
                if (v.ValueKind == JsonValueKind.Null && nullIsNaN)
                {
                    return double.NaN;
                }
            }
            throw Bad($"\"{name}\" is not a finite number");
        }

        private JsonElement Array(JsonElement e, string name)
            => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
                ? v
                : throw Bad($"the header has no list \"{name}\"");

        private JsonElement Object(JsonElement e, string name)
            => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
                ? v
                : throw Bad($"the header has no object \"{name}\"");

        private BackpropException Bad(string problem) => new($"{source}: invalid checkpoint: {problem}.");
    }
}
