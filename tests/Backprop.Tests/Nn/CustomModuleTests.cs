using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Nn;

/// <summary>A module written outside the library, composing TensorOps, trains through Trainer like the built-in ones.</summary>
public sealed class CustomModuleTests
{
    /// <summary>y = x + W₂·tanh(BatchNorm(W₁·x)) with dropout in between: a residual block.</summary>
    private sealed class Residual : Module<double>
    {
        private readonly Dense<double> inner;
        private readonly BatchNorm1d<double> norm;
        private readonly Dropout<double> dropout;
        private readonly Parameter<double> gate;

        public Residual(int width, ulong seed)
        {
            inner = new Dense<double>(width, width);
            norm = new BatchNorm1d<double>(width);
            dropout = new Dropout<double>(0.1, seed);
            gate = new Parameter<double>("gate", new Shape(width));
            gate.Data.Fill(0.5);
        }

        public override Tensor<double> Forward(Tensor<double> input)
            => input + (dropout.Forward(norm.Forward(inner.Forward(input)).Tanh()) * gate);

        public override IEnumerable<Module<double>> Children() => [inner, norm, dropout];

        public override IEnumerable<Parameter<double>> Parameters() => [.. base.Parameters(), gate];

        public override void SetName(string prefix)
        {
            base.SetName(prefix);
            gate.Rename(prefix + ".gate");
        }

        public override string Describe() => "Residual";
    }

    private static Sequential<double> Network()
    {
        var network = new Sequential<double>(new Dense<double>(2, 8, Activation.Tanh), new Residual(8, 3), new Residual(8, 4), new Dense<double>(8, 1));
        new XavierInitializer(2).Initialize(network);
        return network;
    }

    [Fact]
    public void Its_parameters_are_named_inside_the_network()
    {
        var names = Network().Parameters().Select(p => p.Name).ToList();
        Assert.Equal(["layer0.weight", "layer0.bias", "layer1.0.weight", "layer1.0.bias", "layer1.1.weight", "layer1.1.bias", "layer1.gate"], names.Take(7));
        Assert.Equal(14, names.Count);
    }

    [Fact]
    public void It_passes_the_gradient_check_in_training_mode()
    {
        var rng = new Rng(1);
        var x = Uniform(rng, -1, 1, [6, 2]);
        var y = Uniform(rng, -1, 1, [6, 1]);

        var rows = GradientCheck.Check(Network(), new MeanSquaredError(), x, y);

        Assert.True(rows.Max(r => r.RelativeError) <= GradientTolerance, $"worst {rows.MaxBy(r => r.RelativeError)}");
    }

    [Fact]
    public void It_trains_through_the_trainer()
    {
        var rng = new Rng(5);
        var x = Uniform(rng, -2, 2, [64, 2]);
        var y = new Tensor<double>(new Shape(64, 1));
        for (var r = 0; r < 64; r++)
        {
            y[r, 0] = Math.Sin(x[r, 0]) * x[r, 1];
        }
        var network = Network();
        var trainer = new Trainer<double>(network, new MeanSquaredError(), new Adam<double>(network.Parameters(), 0.01));

        var result = trainer.Fit(x, y, new TrainingOptions { MaxSteps = 400, MinStepSize = null, BatchSize = 16, ShuffleSeed = 1 });

        Assert.True(result.FinalLoss < result.InitialLoss / 5, $"loss {result.InitialLoss} → {result.FinalLoss}");
        Assert.NotEqual(0.5, network.Parameters().Single(p => p.Name == "layer1.gate")[0]);
    }
}
