using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Serialization;

/// <summary>
/// Backprop's model file, format version 1 (docs/model-format.md): the magic bytes <c>BPMODEL\0</c>,
/// the format version and the header length (32-bit little-endian), a UTF-8 JSON header describing
/// the layers and the arrays, the arrays as little-endian IEEE 754 numbers, and a SHA-256 of
/// everything before it.
/// </summary>
/// <remarks>
/// Loading reads no type names and runs no code from the file: the layer kinds and activations are
/// matched against a fixed list. Every length is checked against the file's real size before
/// anything is allocated, and the checksum before anything is interpreted.
/// </remarks>
public static class ModelFile
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The file's first eight bytes.</summary>
    public static ReadOnlySpan<byte> Magic => "BPMODEL\0"u8;

    private static readonly FrameWords Words = new("model file", "model", "an empty model", "the file");

    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public static void Save<T>(Model<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var bytes = ToBytes(model);
        AtomicFile.Write(path, "model", s => s.Write(bytes));
    }

    /// <summary>The whole file's bytes for <paramref name="model"/>.</summary>
    public static byte[] ToBytes<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var arrays = new List<(string Name, Shape Shape, IReadOnlyList<string>? ElementNames, double[]? Doubles, Tensor<T>? Tensor)>();
        foreach (var p in model.Network.Parameters())
        {
            arrays.Add((p.Name!, p.Shape, HasDefaultNames(p) ? null : p.ElementNames, null, p));
        }
        if (model.Normalization is { } n)
        {
            arrays.Add(("normalization.mean", new Shape(n.Count), null, [.. n.Mean], null));
            arrays.Add(("normalization.stdDev", new Shape(n.Count), null, [.. n.StdDev], null));
        }
        var header = WriteHeader(model, arrays.Select(a => (a.Name, a.Shape, a.ElementNames, a.Doubles is null ? ElementTypeName<T>() : "float64")));
        var payload = new MemoryStream();
        Span<byte> eight = stackalloc byte[8];
        foreach (var a in arrays)
        {
            if (a.Doubles is { } doubles)
            {
                foreach (var d in doubles)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(eight, d);
                    payload.Write(eight);
                }
            }
            else
            {
                FileFrame.WriteValues<T>(payload, a.Tensor!.Data);
            }
        }
        return Assemble(header, payload.ToArray());
    }

    /// <summary>Loads the model file at <paramref name="path"/>; see <see cref="Model{T}.Load"/>.</summary>
    /// <exception cref="BackpropException">The file is missing, unreadable, not a model file, of a newer format, corrupt or inconsistent.</exception>
    public static Model<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = FileFrame.ReadFile(path, Magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw FileErrors.CannotRead(path, "model file", e);
        }
        return FromBytes<T>(bytes, path);
    }

    /// <summary>Reads a model from a file's bytes; <paramref name="source"/> names the file in messages.</summary>
    /// <exception cref="BackpropException">The bytes are not a valid model file.</exception>
    public static Model<T> FromBytes<T>(byte[] bytes, string source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new BackpropException($"{source}: not a Backprop model file (it does not start with BPMODEL).");
        }
        var (header, payload) = FileFrame.Open(bytes, source, FormatVersion, Words);
        try
        {
            using var document = JsonDocument.Parse(header);
            return new Reader<T>(source, document.RootElement, payload).Read();
        }
        catch (JsonException e)
        {
            throw new BackpropException($"{source}: the model header is not valid JSON: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>Puts a model header and a payload together with the preamble and the checksum.</summary>
    internal static byte[] Assemble(byte[] header, byte[] payload) => FileFrame.Assemble(Magic, FormatVersion, header, payload);

    private static string ElementTypeName<T>() => typeof(T) == typeof(float) ? "float32" : "float64";

    private static bool HasDefaultNames<T>(Parameter<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < p.Length; i++)
        {
            var expected = p.Shape.Rank == 2 ? $"{p.Name}[{i / p.Shape[1]},{i % p.Shape[1]}]" : $"{p.Name}[{i}]";
            if (p.ElementNames[i] != expected)
            {
                return false;
            }
        }
        return true;
    }

    private static byte[] WriteHeader<T>(Model<T> model, IEnumerable<(string Name, Shape Shape, IReadOnlyList<string>? ElementNames, string Type)> arrays)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", "backprop-model");
            json.WriteNumber("formatVersion", FormatVersion);
            json.WriteString("elementType", ElementTypeName<T>());
            json.WriteNumber("inputs", model.InputCount);
            json.WriteNumber("outputs", model.OutputCount);
            json.WriteStartArray("layers");
            foreach (var layer in model.Network.Layers)
            {
                json.WriteStartObject();
                if (layer is Dense<T> dense)
                {
                    json.WriteString("type", "dense");
                    json.WriteNumber("inputs", dense.Inputs);
                    json.WriteNumber("outputs", dense.Outputs);
                    json.WriteString("activation", ActivationName(dense.Activation));
                }
                else
                {
                    json.WriteString("type", "activation");
                    json.WriteString("activation", ActivationName(((ActivationLayer<T>)layer).Activation));
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (model.ClassNames is { } classes)
            {
                WriteStrings(json, "classNames", classes);
            }
            json.WriteBoolean("normalization", model.Normalization is not null);
            json.WriteStartArray("arrays");
            foreach (var (name, shape, elementNames, type) in arrays)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteString("type", type);
                json.WriteStartArray("shape");
                foreach (var d in shape.ToArray())
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                if (elementNames is not null)
                {
                    WriteStrings(json, "elementNames", elementNames);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            var m = model.Metadata;
            json.WriteStartObject("metadata");
            json.WriteString("libraryVersion", m.LibraryVersion);
            json.WriteString("created", m.CreatedText);
            if (m.Seed is { } seed)
            {
                // NOTE: a string, because JSON readers commonly lose precision above 2^53.
                json.WriteString("seed", seed.ToString(CultureInfo.InvariantCulture));
            }
            WriteOptional(json, "dataName", m.DataName);
            WriteOptional(json, "dataFingerprint", m.DataFingerprint);
            WriteOptional(json, "loss", m.Loss);
            if (m.FinalLoss is { } loss && double.IsFinite(loss))
            {
                json.WriteNumber("finalLoss", loss);
            }
            if (m.InputNames is { } inputs)
            {
                WriteStrings(json, "inputNames", inputs);
            }
            if (m.OutputNames is { } outputs)
            {
                WriteStrings(json, "outputNames", outputs);
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteStringValue(v);
        }
        json.WriteEndArray();
    }

    /// <summary>The registered kind of <paramref name="layer"/>.</summary>
    /// <exception cref="BackpropException">It has none.</exception>
    internal static LayerKind KindOf<T>(Module<T> layer) where T : unmanaged, IFloatingPointIeee754<T>
        => layer.Kind ?? throw new BackpropException($"A model can hold layers of registered kinds only; {layer.Describe()} has none.");

    internal static string ActivationName(Activation a) => a.Name;

    /// <summary>Interprets a header whose checksum has been verified, then the arrays it describes.</summary>
    private sealed class Reader<T>(string source, JsonElement root, ReadOnlyMemory<byte> memory) where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Model<T> Read()
        {
            if (root.ValueKind != JsonValueKind.Object || String(root, "format") != "backprop-model")
            {
                throw Bad("the header does not say \"format\": \"backprop-model\"");
            }
            var layers = ReadLayers(Array(root, "layers"));
            // The parameters the layers need, named as Sequential and Dense name them; nothing is allocated yet.
            var needed = layers.SelectMany((l, i) => l.Type == "dense"
                ? new[] { ($"layer{i}.weight", new[] { l.Inputs, l.Outputs }), ($"layer{i}.bias", new[] { l.Outputs }) }
                : []).ToList();
            var hasNormalization = root.TryGetProperty("normalization", out var n) && n.ValueKind == JsonValueKind.True;
            var specs = Array(root, "arrays").EnumerateArray().ToList();
            var expected = needed.Count + (hasNormalization ? 2 : 0);
            if (specs.Count != expected)
            {
                throw Bad($"the header lists {specs.Count} arrays; its layers{(hasNormalization ? " and normalisation" : "")} need {expected}");
            }
            // Sizes first, from the header alone and in 64-bit arithmetic: nothing is allocated until they match the file.
            var sizes = new (string Name, string Type, int[] Shape, long Bytes)[specs.Count];
            long total = 0;
            for (var i = 0; i < specs.Count; i++)
            {
                var name = String(specs[i], "name");
                var type = String(specs[i], "type");
                var width = type switch
                {
                    "float32" => 4,
                    "float64" => 8,
                    _ => throw Bad($"array '{name}' has type '{type}'; a model holds float32 or float64"),
                };
                var shape = Array(specs[i], "shape").EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var v) && v > 0 ? v : throw Bad($"array '{name}' has a dimension that is not a positive whole number")).ToArray();
                long count = 1;
                foreach (var d in shape)
                {
                    count *= d;
                    if (count > int.MaxValue)
                    {
                        throw Bad($"array '{name}' of shape [{string.Join(", ", shape)}] is too large");
                    }
                }
                sizes[i] = (name, type, shape, count * width);
                total += count * width;
            }
            var payload = memory.Span;
            if (total != payload.Length)
            {
                throw Bad($"the arrays need {total} bytes but the file holds {payload.Length}");
            }
            for (var i = 0; i < needed.Count; i++)
            {
                var (name, _, shape, _) = sizes[i];
                if (name != needed[i].Item1 || !shape.AsSpan().SequenceEqual(needed[i].Item2))
                {
                    throw Bad($"array {i + 1} is '{name}' [{string.Join(", ", shape)}]; the layers need '{needed[i].Item1}' [{string.Join(", ", needed[i].Item2)}]");
                }
            }
            var network = new Sequential<T>([.. layers.Select(l => l.Type == "dense" ? new Dense<T>(l.Inputs, l.Outputs, l.Activation) : (Module<T>)new ActivationLayer<T>(l.Activation))]);
            var parameters = network.Parameters().ToList();
            var offset = 0;
            for (var i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                var (name, type, _, bytes) = sizes[i];
                ReadValues(payload.Slice(offset, (int)bytes), type, p.Data);
                offset += (int)bytes;
                if (FirstNonFinite<T>(p.Data) is var bad and >= 0)
                {
                    throw Bad($"array '{name}' holds {double.CreateTruncating(p.Data[bad]).ToString(CultureInfo.InvariantCulture)} at element {bad + 1}; a model's numbers are finite");
                }
                if (specs[i].TryGetProperty("elementNames", out var names))
                {
                    var list = Strings(names, "elementNames");
                    if (list.Count != p.Length)
                    {
                        throw Bad($"array '{name}' has {p.Length} numbers but {list.Count} element names");
                    }
                    p.SetElementNames([.. list]);
                }
            }
            InputNormalization? normalization = null;
            if (hasNormalization)
            {
                var inputs = layers[0].Inputs;
                var mean = new double[inputs];
                var std = new double[inputs];
                foreach (var (k, target, label) in new[] { (parameters.Count, mean, "normalization.mean"), (parameters.Count + 1, std, "normalization.stdDev") })
                {
                    var (name, type, shape, bytes) = sizes[k];
                    if (name != label || type != "float64" || shape is not [var length] || length != inputs)
                    {
                        throw Bad($"array {k + 1} must be '{label}', float64 [{inputs}]; it is '{name}', {type} [{string.Join(", ", shape)}]");
                    }
                    ReadValues<double>(payload.Slice(offset, (int)bytes), type, target);
                    offset += (int)bytes;
                }
                normalization = Checked(() => new InputNormalization(mean, std));
            }
            var metadata = ReadMetadata(root.TryGetProperty("metadata", out var m) ? m : default);
            IReadOnlyList<string>? classNames = root.TryGetProperty("classNames", out var c) ? Strings(c, "classNames") : null;
            return Checked(() => new Model<T>(network) { Normalization = normalization, ClassNames = classNames, Metadata = metadata });
        }

        private List<(string Type, int Inputs, int Outputs, Activation Activation)> ReadLayers(JsonElement layers)
        {
            var list = new List<(string Type, int Inputs, int Outputs, Activation Activation)>();
            int? previousOutputs = null;
            foreach (var layer in layers.EnumerateArray())
            {
                var type = String(layer, "type");
                var activation = ParseActivation(String(layer, "activation"));
                if (type == "dense")
                {
                    var (inputs, outputs) = (PositiveInt(layer, "inputs"), PositiveInt(layer, "outputs"));
                    if (previousOutputs is { } previous && previous != inputs)
                    {
                        throw Bad($"layer {list.Count + 1} takes {inputs} inputs but the layer before it has {previous} outputs");
                    }
                    previousOutputs = outputs;
                    list.Add((type, inputs, outputs, activation));
                }
                else if (type == "activation")
                {
                    list.Add((type, 0, 0, activation));
                }
                else
                {
                    throw Bad($"layer {list.Count + 1} has type '{type}'; a model holds dense and activation layers");
                }
            }
            if (list.Count == 0 || list[0].Type != "dense")
            {
                throw Bad("the header has no layers, or its first layer is not dense");
            }
            return list;
        }

        private ModelMetadata ReadMetadata(JsonElement m)
        {
            if (m.ValueKind != JsonValueKind.Object)
            {
                throw Bad("the header has no \"metadata\" object");
            }
            var created = String(m, "created");
            if (!DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
            {
                throw Bad($"metadata.created '{created}' is not a date");
            }
            ulong? seed = null;
            if (m.TryGetProperty("seed", out var s))
            {
                seed = s.ValueKind == JsonValueKind.String && ulong.TryParse(s.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                    ? v
                    : throw Bad("metadata.seed is not a whole number in a string");
            }
            double? finalLoss = null;
            if (m.TryGetProperty("finalLoss", out var f))
            {
                finalLoss = f.ValueKind == JsonValueKind.Number && f.TryGetDouble(out var loss) && double.IsFinite(loss) ? loss : throw Bad("metadata.finalLoss is not a finite number");
            }
            return new ModelMetadata
            {
                LibraryVersion = String(m, "libraryVersion"),
                Created = date,
                Seed = seed,
                DataName = OptionalString(m, "dataName"),
                DataFingerprint = OptionalString(m, "dataFingerprint"),
                Loss = OptionalString(m, "loss"),
                FinalLoss = finalLoss,
                InputNames = m.TryGetProperty("inputNames", out var i) ? Strings(i, "metadata.inputNames") : null,
                OutputNames = m.TryGetProperty("outputNames", out var o) ? Strings(o, "metadata.outputNames") : null,
            };
        }

        private static int FirstNonFinite<TValue>(ReadOnlySpan<TValue> values) where TValue : unmanaged, IFloatingPointIeee754<TValue>
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (!TValue.IsFinite(values[i]))
                {
                    return i;
                }
            }
            return -1;
        }

        private static void ReadValues<TValue>(ReadOnlySpan<byte> bytes, string type, Span<TValue> destination) where TValue : unmanaged, IFloatingPointIeee754<TValue>
        {
            if (type == "float32")
            {
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = TValue.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]));
                }
            }
            else
            {
                for (var i = 0; i < destination.Length; i++)
                {
                    // NOTE: CreateTruncating, not CreateChecked: a double model loaded as float is rounded, never rejected.
                    destination[i] = TValue.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]));
                }
            }
        }

        private Activation ParseActivation(string name)
            => LayerRegistry.Activations.FirstOrDefault(a => a.Name == name) ?? throw Bad($"unknown activation '{name}'");

        private TResult Checked<TResult>(Func<TResult> create)
        {
            try
            {
                return create();
            }
            catch (BackpropException e)
            {
                throw Bad(e.Message.TrimEnd('.'));
            }
        }

        private string String(JsonElement e, string name)
            => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()!
                : throw Bad($"the header has no text field \"{name}\" where one is needed");

        private static string? OptionalString(JsonElement e, string name)
            => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        private JsonElement Array(JsonElement e, string name)
            => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
                ? v
                : throw Bad($"the header has no list \"{name}\"");

        private int PositiveInt(JsonElement e, string name)
            => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i > 0
                ? i
                : throw Bad($"a layer's \"{name}\" is not a positive whole number");

        private IReadOnlyList<string> Strings(JsonElement e, string name)
            => e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String)
                ? [.. e.EnumerateArray().Select(v => v.GetString()!)]
                : throw Bad($"\"{name}\" is not a list of text");

        private BackpropException Bad(string problem) => new($"{source}: invalid model file: {problem}.");
    }
}
