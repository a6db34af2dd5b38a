using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Serialization;

/// <summary>
/// Backprop's model file, format version 2 (docs/model-format.md): the magic bytes <c>BPMODEL\0</c>,
/// the format version and the header length (32-bit little-endian), a UTF-8 JSON header describing
/// the input shape, the layers (each by its kind's name, its fields and its arrays) and the arrays,
/// the arrays as little-endian IEEE 754 numbers, and a SHA-256 of everything before it. Version 1
/// files (Dense and activation layers on rows of numbers) are still read.
/// </summary>
/// <remarks>
/// Loading reads no type names and runs no code from the file: layer kinds are looked up by name in
/// <see cref="LayerRegistry"/>. Every length is checked against the file's real size before
/// anything is allocated, and the checksum before anything is interpreted.
/// </remarks>
public static class ModelFile
{
    /// <summary>The format version this library writes.</summary>
    public const int FormatVersion = 2;

    /// <summary>The oldest format version this library reads.</summary>
    public const int OldestFormatVersion = 1;

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
    /// <exception cref="BackpropException">A layer has no registered kind.</exception>
    public static byte[] ToBytes<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var payload = new MemoryStream();
        var layers = new List<(LayerKind Kind, LayerFields Fields, List<(Tensor<T> Tensor, IReadOnlyList<string>? ElementNames)> Arrays)>();
        foreach (var layer in model.Network.Layers)
        {
            var kind = KindOf(layer);
            var arrays = new List<(Tensor<T>, IReadOnlyList<string>?)>();
            foreach (var p in layer.Parameters())
            {
                arrays.Add((p, p.HasCustomElementNames ? p.ElementNames : null));
                FileFrame.WriteValues<T>(payload, p.Data);
            }
            foreach (var b in layer.Buffers())
            {
                arrays.Add((b, null));
                FileFrame.WriteValues<T>(payload, b.Data);
            }
            layers.Add((kind, kind.FieldsOf(layer), arrays));
        }
        if (model.Normalization is { } n)
        {
            Span<byte> eight = stackalloc byte[8];
            foreach (var d in n.Mean.Concat(n.StdDev))
            {
                BinaryPrimitives.WriteDoubleLittleEndian(eight, d);
                payload.Write(eight);
            }
        }
        return Assemble(WriteHeader(model, layers), payload.ToArray());
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
        var (header, payload, version) = FileFrame.Open(bytes, source, OldestFormatVersion, FormatVersion, Words);
        try
        {
            using var document = JsonDocument.Parse(header);
            return new Reader<T>(source, document.RootElement, payload, version).Read();
        }
        catch (JsonException e)
        {
            throw new BackpropException($"{source}: the model header is not valid JSON: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>Puts a model header and a payload together with the preamble and the checksum.</summary>
    internal static byte[] Assemble(byte[] header, byte[] payload) => FileFrame.Assemble(Magic, FormatVersion, header, payload);

    private static string ElementTypeName<T>() => typeof(T) == typeof(float) ? "float32" : "float64";

    private static byte[] WriteHeader<T>(Model<T> model, List<(LayerKind Kind, LayerFields Fields, List<(Tensor<T> Tensor, IReadOnlyList<string>? ElementNames)> Arrays)> layers)
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
            WriteInts(json, "inputShape", model.InputShape.ToArray());
            json.WriteNumber("outputs", model.OutputCount);
            json.WriteStartArray("layers");
            foreach (var (kind, fields, arrays) in layers)
            {
                json.WriteStartObject();
                json.WriteString("kind", kind.Name);
                json.WriteStartObject("fields");
                foreach (var (name, value) in fields.Values)
                {
                    WriteField(json, name, value);
                }
                json.WriteEndObject();
                if (arrays.Count > 0)
                {
                    json.WriteStartArray("arrays");
                    foreach (var (tensor, elementNames) in arrays)
                    {
                        WriteArray(json, tensor.Name!, ElementTypeName<T>(), tensor.Shape, elementNames);
                    }
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (model.ClassNames is { } classes)
            {
                WriteStrings(json, "classNames", classes);
            }
            json.WriteBoolean("normalization", model.Normalization is not null);
            if (model.Normalization is not null)
            {
                json.WriteStartArray("arrays");
                WriteArray(json, "normalization.mean", "float64", model.InputShape, null);
                WriteArray(json, "normalization.stdDev", "float64", model.InputShape, null);
                json.WriteEndArray();
            }
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

    private static void WriteArray(Utf8JsonWriter json, string name, string type, Shape shape, IReadOnlyList<string>? elementNames)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("type", type);
        WriteInts(json, "shape", shape.ToArray());
        if (elementNames is not null)
        {
            WriteStrings(json, "elementNames", elementNames);
        }
        json.WriteEndObject();
    }

    private static void WriteField(Utf8JsonWriter json, string name, object value)
    {
        switch (value)
        {
            case int i:
                json.WriteNumber(name, i);
                break;
            case double d:
                json.WriteNumber(name, d);
                break;
            case bool b:
                json.WriteBoolean(name, b);
                break;
            case int[] list:
                WriteInts(json, name, list);
                break;
            default:
                json.WriteString(name, (string)value);
                break;
        }
    }

    private static void WriteInts(Utf8JsonWriter json, string name, IEnumerable<int> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteNumberValue(v);
        }
        json.WriteEndArray();
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


    /// <summary>Interprets a header whose checksum has been verified, then the arrays it describes.</summary>
    private sealed class Reader<T>(string source, JsonElement root, ReadOnlyMemory<byte> memory, int version) where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>A layer as the header describes it, before anything is allocated: its kind, fields, input shape, the arrays it needs and the arrays the file lists for it.</summary>
        private sealed record Plan(LayerKind Kind, LayerFields Fields, Shape Input, IReadOnlyList<LayerArray> Needed, List<JsonElement> Listed);

        public Model<T> Read()
        {
            if (root.ValueKind != JsonValueKind.Object || String(root, "format") != "backprop-model")
            {
                throw Bad("the header does not say \"format\": \"backprop-model\"");
            }
            var hasNormalization = root.TryGetProperty("normalization", out var n) && n.ValueKind == JsonValueKind.True;
            var (inputShape, plans, others) = version == 1 ? PlanVersion1(hasNormalization) : PlanVersion2();
            if (version > 1 && others.Count != (hasNormalization ? 2 : 0))
            {
                throw Bad($"the header lists {others.Count} arrays outside the layers; {(hasNormalization ? "normalisation needs 2" : "without normalisation there are none")}");
            }
            var specs = plans.SelectMany(p => p.Listed).Concat(others).ToList();
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
            var k = 0;
            for (var l = 0; l < plans.Count; l++)
            {
                foreach (var needed in plans[l].Needed)
                {
                    var (name, _, shape, _) = sizes[k];
                    var neededName = $"layer{l}.{needed.Name}";
                    if (name != neededName || !shape.AsSpan().SequenceEqual(needed.Shape.ToArray()))
                    {
                        throw Bad($"array {k + 1} is '{name}' [{string.Join(", ", shape)}]; the layers need '{neededName}' {needed.Shape}");
                    }
                    k++;
                }
            }

            var network = Checked(() => new Sequential<T>([.. plans.Select(p => p.Kind.Create<T>(p.Fields, p.Input))]));
            var offset = 0;
            k = 0;
            for (var l = 0; l < plans.Count; l++)
            {
                var layer = network.Layers[l];
                var tensors = layer.Parameters().Cast<Tensor<T>>().Concat(layer.Buffers()).ToList();
                if (tensors.Count != plans[l].Needed.Count)
                {
                    throw new InvalidOperationException($"{plans[l].Kind.Name} lists {plans[l].Needed.Count} arrays but its module holds {tensors.Count}.");
                }
                foreach (var tensor in tensors)
                {
                    var (name, type, _, bytes) = sizes[k];
                    ReadValues(payload.Slice(offset, (int)bytes), type, tensor.Data);
                    offset += (int)bytes;
                    if (FirstNonFinite<T>(tensor.Data) is var bad and >= 0)
                    {
                        throw Bad($"array '{name}' holds {double.CreateTruncating(tensor.Data[bad]).ToString(CultureInfo.InvariantCulture)} at element {bad + 1}; a model's numbers are finite");
                    }
                    if (specs[k].TryGetProperty("elementNames", out var names) && tensor is Parameter<T> p)
                    {
                        var list = Strings(names, "elementNames");
                        if (list.Count != p.Length)
                        {
                            throw Bad($"array '{name}' has {p.Length} numbers but {list.Count} element names");
                        }
                        p.SetElementNames([.. list]);
                    }
                    k++;
                }
            }
            InputNormalization? normalization = null;
            if (hasNormalization)
            {
                var inputs = inputShape.Length;
                var mean = new double[inputs];
                var std = new double[inputs];
                foreach (var (target, label) in new[] { (mean, "normalization.mean"), (std, "normalization.stdDev") })
                {
                    var (name, type, shape, bytes) = sizes[k];
                    var expected = version == 1 ? [inputs] : inputShape.ToArray();
                    if (name != label || type != "float64" || !shape.AsSpan().SequenceEqual(expected))
                    {
                        throw Bad($"array {k + 1} must be '{label}', float64 [{string.Join(", ", expected)}]; it is '{name}', {type} [{string.Join(", ", shape)}]");
                    }
                    ReadValues<double>(payload.Slice(offset, (int)bytes), type, target);
                    offset += (int)bytes;
                    k++;
                }
                normalization = Checked(() => new InputNormalization(mean, std));
            }
            var metadata = ReadMetadata(root.TryGetProperty("metadata", out var m) ? m : default);
            IReadOnlyList<string>? classNames = root.TryGetProperty("classNames", out var c) ? Strings(c, "classNames") : null;
            var model = Checked(() => new Model<T>(network, inputShape) { Normalization = normalization, ClassNames = classNames, Metadata = metadata });
            CheckSummary(model, sizes.Take(k - (hasNormalization ? 2 : 0)).Select(a => a.Type));
            return model;
        }

        // The header's summary fields must agree with the layers: a reader that trusted them would be misled.
        private void CheckSummary(Model<T> model, IEnumerable<string> parameterTypes)
        {
            var elementType = String(root, "elementType");
            if (elementType is not ("float32" or "float64"))
            {
                throw Bad($"\"elementType\" is '{elementType}'; a model holds float32 or float64");
            }
            if (parameterTypes.FirstOrDefault(t => t != elementType) is { } other)
            {
                throw Bad($"\"elementType\" says {elementType} but the parameters are {other}");
            }
            foreach (var (field, actual) in new[] { ("inputs", model.InputCount), ("outputs", model.OutputCount) })
            {
                if (!root.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var stated) || stated != actual)
                {
                    throw Bad($"\"{field}\" is {(root.TryGetProperty(field, out var shown) ? shown.GetRawText() : "missing")}; the layers have {actual}");
                }
            }
        }

        /// <summary>Version 2: the input shape, then each layer by kind name with its fields and its arrays.</summary>
        private (Shape Input, List<Plan> Plans, List<JsonElement> Others) PlanVersion2()
        {
            var dims = Array(root, "inputShape").EnumerateArray()
                .Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var v) && v > 0 ? v : throw Bad("\"inputShape\" is not a list of positive whole numbers"))
                .ToArray();
            if (dims.Length == 0 || dims.Aggregate(1L, (a, d) => Math.Min(a * d, 1L << 40)) > int.MaxValue)
            {
                throw Bad($"\"inputShape\" [{string.Join(", ", dims)}] is empty or too large");
            }
            var input = new Shape(dims);
            var shape = input;
            var plans = new List<Plan>();
            foreach (var layer in Array(root, "layers").EnumerateArray())
            {
                var number = plans.Count + 1;
                var name = String(layer, "kind");
                var kind = LayerRegistry.Find(name) ?? throw Bad($"layer {number} has kind '{name}'; this Backprop knows {string.Join(", ", LayerRegistry.Kinds.Select(k => k.Name))}");
                var fields = layer.TryGetProperty("fields", out var f) ? ReadFields(f, number, name) : new LayerFields();
                var (needed, output) = Shapes(kind, fields, shape, number);
                var listed = layer.TryGetProperty("arrays", out var a) ? Array(layer, "arrays").EnumerateArray().ToList() : [];
                if (listed.Count != needed.Count)
                {
                    throw Bad($"layer {number} ({name}) lists {listed.Count} arrays; it needs {needed.Count}");
                }
                plans.Add(new Plan(kind, fields, shape, needed, listed));
                shape = output;
            }
            if (plans.Count == 0)
            {
                throw Bad("the header has no layers");
            }
            var others = root.TryGetProperty("arrays", out _) ? Array(root, "arrays").EnumerateArray().ToList() : [];
            return (input, plans, others);
        }

        /// <summary>Version 1: dense and activation layers on rows of numbers; all arrays in one list after them.</summary>
        private (Shape Input, List<Plan> Plans, List<JsonElement> Others) PlanVersion1(bool hasNormalization)
        {
            var layers = ReadLayers(Array(root, "layers"));
            var specs = Array(root, "arrays").EnumerateArray().ToList();
            var input = new Shape(layers[0].Inputs);
            var shape = input;
            var plans = new List<Plan>();
            var used = 0;
            foreach (var (type, inputs, outputs, activation) in layers)
            {
                var (kind, fields) = type == "dense"
                    ? ((LayerKind)DenseKind.Instance, new LayerFields().Add("inputs", inputs).Add("outputs", outputs).Add("activation", activation.Name))
                    : (activation, new LayerFields());
                var (needed, output) = Shapes(kind, fields, shape, plans.Count + 1);
                plans.Add(new Plan(kind, fields, shape, needed, specs.Skip(used).Take(needed.Count).ToList()));
                used += needed.Count;
                shape = output;
            }
            var expected = used + (hasNormalization ? 2 : 0);
            if (specs.Count != expected)
            {
                throw Bad($"the header lists {specs.Count} arrays; its layers{(hasNormalization ? " and normalisation" : "")} need {expected}");
            }
            return (input, plans, specs.Skip(used).ToList());
        }

        private (IReadOnlyList<LayerArray> Needed, Shape Output) Shapes(LayerKind kind, LayerFields fields, Shape input, int number)
        {
            try
            {
                return (kind.Arrays(fields, input), kind.OutputShape(fields, input));
            }
            catch (BackpropException e)
            {
                throw Bad($"layer {number} ({kind.Name}): {e.Message.TrimEnd('.')}");
            }
            catch (ArgumentException)
            {
                throw Bad($"layer {number} ({kind.Name}) would be too large");
            }
        }

        private LayerFields ReadFields(JsonElement e, int number, string kind)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"layer {number} ({kind}) has \"fields\" that are not an object");
            }
            var fields = new LayerFields();
            foreach (var field in e.EnumerateObject())
            {
                if (string.IsNullOrWhiteSpace(field.Name))
                {
                    throw Bad($"layer {number} ({kind}) has a field without a name");
                }
                var v = field.Value;
                _ = v.ValueKind switch
                {
                    JsonValueKind.Number when v.TryGetInt32(out var i) => fields.Add(field.Name, i),
                    JsonValueKind.Number when v.TryGetDouble(out var d) && double.IsFinite(d) => fields.Add(field.Name, d),
                    JsonValueKind.String => fields.Add(field.Name, v.GetString()!),
                    JsonValueKind.True or JsonValueKind.False => fields.Add(field.Name, v.GetBoolean()),
                    JsonValueKind.Array when v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _))
                        => fields.Add(field.Name, [.. v.EnumerateArray().Select(x => x.GetInt32())]),
                    _ => throw Bad($"layer {number} ({kind}) field \"{field.Name}\" is not a number, text, true/false or a list of whole numbers"),
                };
            }
            return fields;
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
            => FileFrame.FirstNonFinite(values);

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
