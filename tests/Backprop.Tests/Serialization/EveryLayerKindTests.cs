using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Serialization;
using Backprop.Tensors;
using Backprop.Tests.TestUtil;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace Backprop.Tests.Serialization;

/// <summary>
/// Every registered layer kind (<see cref="LayerRegistry.Kinds"/>: a kind registered later is covered
/// without a new line here), in a small network built from its <see cref="LayerKind.Example"/>:
/// saved and loaded it gives the same outputs bit for bit; exported to ONNX, ONNX Runtime gives the
/// library's float outputs; and its gradients match central finite differences in double.
/// </summary>
public sealed class EveryLayerKindTests
{
    public static TheoryData<string> Kinds() => [.. LayerRegistry.Kinds.Select(k => k.Name)];

    /// <summary>The kind's example, then a flatten when it gives examples of rank above 1, then dense 3: a model with three outputs.</summary>
    internal static (Sequential<double> Network, Shape Input) SmallNetwork(LayerKind kind, ulong seed)
    {
        var (item, input) = kind.Example;
        var words = item.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(kind.Name, words[0]);
        var fields = kind.Parse(words[1..]);
        var layers = new List<Module<double>> { kind.Create<double>(fields, input) };
        var shape = kind.OutputShape(fields, input);
        if (shape.Rank > 1)
        {
            var flatten = LayerRegistry.Find("flatten");
            Assert.True(flatten is not null, $"{kind.Name} gives examples of shape {shape}; the test needs a registered flatten kind");
            layers.Add(flatten.Create<double>(new LayerFields(), shape));
            shape = flatten.OutputShape(new LayerFields(), shape);
        }
        layers.Add(DenseKind.Instance.Create<double>(DenseKind.Instance.Parse(["3"]), shape));
        var network = new Sequential<double>([.. layers]);
        new XavierInitializer(seed).Initialize(network);
        // Biases start at 0 and buffers at their defaults: move every number so that none is special.
        var rng = new Rng(seed + 1);
        foreach (var p in network.Parameters())
        {
            for (var i = 0; i < p.Length; i++)
            {
                p.Data[i] += rng.NextUniform(-0.2, 0.2);
            }
        }
        foreach (var b in network.Buffers())
        {
            for (var i = 0; i < b.Length; i++)
            {
                b.Data[i] = rng.NextUniform(0.5, 1.5);   // valid as a mean and as a variance
            }
        }
        return (network, input);
    }

    private static Tensor<double> Examples(Shape input, int rows, ulong seed)
        => TestTensors.Uniform(new Rng(seed), -1, 1, [rows, .. input.ToArray()]);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_saved_and_loaded_network_gives_the_same_outputs_bit_for_bit(string name)
    {
        var (network, input) = SmallNetwork(LayerRegistry.Find(name)!, 3);
        var model = new Model<double>(network, input) { ClassNames = ["a", "b", "c"] };
        using var folder = new TempFolder();
        model.Save(folder.File("m.bpm"));

        var loaded = Model<double>.Load(folder.File("m.bpm"));

        Assert.Equal(input, loaded.InputShape);
        Assert.Equal(network.Describe(), loaded.Network.Describe());
        Assert.Equal(network.Parameters().Select(p => p.Name), loaded.Network.Parameters().Select(p => p.Name));
        Assert.Equal(network.Buffers().Select(b => b.ToDoubleArray()), loaded.Network.Buffers().Select(b => b.ToDoubleArray()));
        var x = Examples(input, 4, 4);
        Assert.Equal(model.Predict(x).ToDoubleArray(), loaded.Predict(x).ToDoubleArray());
        // Rows of C×H×W numbers are the same examples.
        var rows = new Tensor<double>(x.Data, new Shape(4, input.Length));
        Assert.Equal(model.Predict(x).ToDoubleArray(), loaded.Predict(rows).ToDoubleArray());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Onnx_runtime_gives_the_librarys_outputs(string name)
    {
        var (network, input) = SmallNetwork(LayerRegistry.Find(name)!, 5);
        using var folder = new TempFolder();
        new Model<double>(network, input) { ClassNames = ["a", "b", "c"] }.Save(folder.File("m.bpm"));
        var model = Model<float>.Load(folder.File("m.bpm"));
        model.ExportOnnx(folder.File("m.onnx"));
        var x = TestTensors.Convert<float>(Examples(input, 5, 6));

        using var session = new InferenceSession(folder.File("m.onnx"));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor(x.Data.ToArray(), [5, .. input.ToArray()]))]);
        var onnx = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());

        OnnxExportTests.AssertClose(model.Predict(x).Data.ToArray(), onnx["output"], 1e-5);
        OnnxExportTests.AssertClose(model.PredictProbabilities(x).Data.ToArray(), onnx["probabilities"], 1e-5);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gradients_of_parameters_and_inputs_match_finite_differences(string name)
    {
        var (network, input) = SmallNetwork(LayerRegistry.Find(name)!, 7);
        var x = Examples(input, 3, 8);
        x.RequiresGrad = true;
        x.Name = "input";
        var targets = TestTensors.Uniform(new Rng(9), -1, 1, [3, 3]);
        var loss = new MeanSquaredError();

        Assert.True(network.IsTraining);
        // In training mode; a layer that draws (Dropout) draws the same mask at every evaluation.
        var generators = network.Generators().Select(g => (g.Value, g.Value.State)).ToList();
        Tensor<double> Loss()
        {
            foreach (var (generator, state) in generators)
            {
                generator.State = state;
            }
            return loss.Compute(network.Forward(x), targets);
        }

        var rows = GradientCheck.Compare(Loss, [x, .. network.Parameters()]);

        var worst = rows.MaxBy(r => r.RelativeError);
        Assert.True(worst.RelativeError < 1e-6, $"{worst.Name}: backprop {worst.Backprop}, finite difference {worst.Numerical}");
    }

    /// <summary>
    /// The reference CNN's layers on small images: conv → batch norm → ReLU → max-pool → conv (tanh fused)
    /// → global average pool or flatten → dense, with every number moved off its starting value.
    /// </summary>
    private static Sequential<double> ReferenceCnn(bool globalPool, ulong seed)
    {
        Module<double>[] layers =
        [
            new Conv2d<double>(2, 4, 3, padding: 1),
            new BatchNorm2d<double>(4),
            new ActivationLayer<double>(Activation.Relu),
            new MaxPool2d<double>(2),
            new Conv2d<double>(4, 3, 3, stride: 1, padding: 1, activation: Activation.Tanh),
            globalPool ? new GlobalAvgPool<double>() : new Flatten<double>(),
            new Dense<double>(globalPool ? 3 : 3 * 3 * 2, 3),
        ];
        var network = new Sequential<double>(layers);
        new HeInitializer(seed).Initialize(network);
        var rng = new Rng(seed + 1);
        foreach (var p in network.Parameters())
        {
            for (var i = 0; i < p.Length; i++)
            {
                p.Data[i] += rng.NextUniform(-0.2, 0.2);
            }
        }
        foreach (var b in network.Buffers())
        {
            for (var i = 0; i < b.Length; i++)
            {
                b.Data[i] = rng.NextUniform(0.5, 1.5);
            }
        }
        return network;
    }

    private static readonly Shape CnnInput = new(2, 6, 5);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_reference_cnn_saves_loads_exports_and_differentiates(bool globalPool)
    {
        var network = ReferenceCnn(globalPool, 11);
        using var folder = new TempFolder();
        var model = new Model<double>(network, CnnInput) { ClassNames = ["a", "b", "c"] };
        model.Save(folder.File("cnn.bpm"));

        // Save → load: the same outputs, bit for bit.
        var loaded = Model<double>.Load(folder.File("cnn.bpm"));
        var x = Examples(CnnInput, 4, 12);
        Assert.Equal(network.Describe(), loaded.Network.Describe());
        Assert.Equal(model.Predict(x).ToDoubleArray(), loaded.Predict(x).ToDoubleArray());

        // Export → ONNX Runtime: the float model's outputs.
        var single = Model<float>.Load(folder.File("cnn.bpm"));
        single.ExportOnnx(folder.File("cnn.onnx"));
        var xf = TestTensors.Convert<float>(x);
        using (var session = new InferenceSession(folder.File("cnn.onnx")))
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor(xf.Data.ToArray(), [4, .. CnnInput.ToArray()]))]);
            var onnx = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            OnnxExportTests.AssertClose(single.Predict(xf).Data.ToArray(), onnx["output"], 1e-5);
            OnnxExportTests.AssertClose(single.PredictProbabilities(xf).Data.ToArray(), onnx["probabilities"], 1e-5);
        }

        // Gradients in training mode (batch statistics) against central finite differences in double.
        Assert.True(network.IsTraining);
        x.RequiresGrad = true;
        x.Name = "input";
        var targets = TestTensors.Uniform(new Rng(13), -1, 1, [4, 3]);
        var rows = GradientCheck.Compare(() => new MeanSquaredError().Compute(network.Forward(x), targets), [x, .. network.Parameters()]);
        var worst = rows.MaxBy(r => r.RelativeError);
        Assert.True(worst.RelativeError < 1e-6, $"{worst.Name}: backprop {worst.Backprop}, finite difference {worst.Numerical}");
    }
}
