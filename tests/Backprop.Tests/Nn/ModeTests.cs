using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

/// <summary>Train() and Eval() as in PyTorch: every module inside follows, custom modules included.</summary>
public sealed class ModeTests
{
    /// <summary>A module of its own with modules inside (through <see cref="Module{T}.Children"/> only).</summary>
    private sealed class Pair(Module<double> first, Module<double> second) : Module<double>
    {
        public override Tensor<double> Forward(Tensor<double> input) => second.Forward(first.Forward(input));

        public override IEnumerable<Module<double>> Children() => [first, second];

        public override string Describe() => "Pair";
    }

    /// <summary>Notes the mode it ran in.</summary>
    internal sealed class ModeSpy : Module<double>
    {
        public List<bool> Seen { get; } = [];

        public override Tensor<double> Forward(Tensor<double> input)
        {
            Seen.Add(IsTraining);
            return input;
        }

        public override string Describe() => "spy";
    }

    private static Module<double>[] All(Module<double> m) => [m, .. m.Children().SelectMany(All)];

    [Fact]
    public void A_module_starts_training_and_eval_and_train_reach_every_module_inside()
    {
        var inner = new Pair(new Dropout<double>(0.5, 1), new BatchNorm1d<double>(2));
        var network = new Sequential<double>(new Dense<double>(2, 2), inner, new ActivationLayer<double>(Activation.Relu));
        Assert.All(All(network), m => Assert.True(m.IsTraining));

        Assert.Same(network, network.Eval());
        Assert.All(All(network), m => Assert.False(m.IsTraining));

        Assert.Same(network, network.Train());
        Assert.All(All(network), m => Assert.True(m.IsTraining));
        network.Train(false);
        Assert.All(All(network), m => Assert.False(m.IsTraining));
    }

    [Fact]
    public void Predict_evaluates_and_gives_the_mode_back()
    {
        var spy = new ModeSpy();
        var network = new Sequential<double>(spy);

        network.Predict(Tensor<double>.Zeros(1, 1));
        Assert.True(network.IsTraining);
        network.Eval();
        network.Predict(Tensor<double>.Zeros(1, 1));
        Assert.False(network.IsTraining);

        Assert.Equal([false, false], spy.Seen);
    }

    [Fact]
    public void A_custom_modules_parameters_buffers_generators_and_names_come_from_its_children()
    {
        var pair = new Pair(new Dense<double>(3, 2), new Pair(new BatchNorm1d<double>(2), new Dropout<double>(0.1, 4)));
        var network = new Sequential<double>(new Dense<double>(3, 3), pair);

        Assert.Equal(["layer0.weight", "layer0.bias", "layer1.0.weight", "layer1.0.bias", "layer1.1.0.weight", "layer1.1.0.bias"],
            network.Parameters().Select(p => p.Name));
        Assert.Equal(["layer1.1.0.runningMean", "layer1.1.0.runningVar"], network.Buffers().Select(b => b.Name));
        Assert.Equal(["layer1.1.1.generator"], network.Generators().Select(g => g.Key));
    }
}
