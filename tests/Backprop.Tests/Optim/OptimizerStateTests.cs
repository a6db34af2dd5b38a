using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Tests.Optim;

/// <summary>An optimizer's state, taken and put into a fresh optimizer, continues the same updates bit for bit.</summary>
public sealed class OptimizerStateTests
{
    private static (Sequential<double> Network, Trainer<double> Trainer) Make(string optimizer)
    {
        var network = Lesson.CreateNetwork<double>();
        return (network, new Trainer<double>(network, new SumSquaredResiduals(), Optimizer<double>.Create(optimizer, network.Parameters(), 0.05)));
    }

    private static long[] Bits(Module<double> network) => [.. network.Elements().Select(e => BitConverter.DoubleToInt64Bits(e.Value))];

    [Theory]
    [InlineData("gd", new string[0])]
    [InlineData("momentum", new[] { "velocity/layer0.weight", "velocity/layer0.bias", "velocity/layer1.weight", "velocity/layer1.bias" })]
    [InlineData("adam", new[] { "m/layer0.weight", "m/layer0.bias", "m/layer1.weight", "m/layer1.bias", "v/layer0.weight", "v/layer0.bias", "v/layer1.weight", "v/layer1.bias" })]
    public void A_state_round_trip_continues_the_same_updates(string name, string[] arrays)
    {
        var x = Backprop.Data.Datasets.Dosage.InputTensor<double>();
        var y = Backprop.Data.Datasets.Dosage.TargetTensor<double>();
        var options = new TrainingOptions { MaxSteps = 10, MinStepSize = null };
        var (a, trainerA) = Make(name);
        trainerA.Fit(x, y, options);
        var state = trainerA.Optimizer.GetState();
        Assert.Equal(name, state.Name);
        Assert.Equal(10, state.StepCount);
        Assert.Equal(arrays, state.Arrays.Select(p => p.Key));

        // A fresh optimizer over a copy of the parameters, given the state, takes the same next steps.
        var (b, trainerB) = Make(name);
        foreach (var (pa, pb) in a.Parameters().Zip(b.Parameters()))
        {
            pa.Data.CopyTo(pb.Data);
        }
        trainerB.Optimizer.SetState(state);
        Assert.Equal(state.StepCount, trainerB.Optimizer.StepCount);
        Assert.Equal(state.LastMaxStepSize, trainerB.Optimizer.LastMaxStepSize);
        trainerA.Fit(x, y, options);
        trainerB.Fit(x, y, options);

        Assert.Equal(Bits(a), Bits(b));
    }

    [Fact]
    public void The_state_is_a_copy_not_a_view()
    {
        var (_, trainer) = Make("momentum");
        trainer.Fit(Backprop.Data.Datasets.Dosage.InputTensor<double>(), Backprop.Data.Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 2 });
        var state = trainer.Optimizer.GetState();
        var before = state.Arrays[0].Value[0];

        trainer.Fit(Backprop.Data.Datasets.Dosage.InputTensor<double>(), Backprop.Data.Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 2 });

        Assert.Equal(before, state.Arrays[0].Value[0]);
    }

    [Fact]
    public void A_state_whose_arrays_do_not_fit_is_refused_with_a_message()
    {
        var (_, trainer) = Make("adam");
        var wrongLength = new OptimizerState<double>("adam", 3, 0.1, [new("m/layer0.weight", new double[5])]);
        var unknown = new OptimizerState<double>("adam", 3, 0.1, [new("velocity/layer0.weight", new double[2])]);

        Assert.Equal("The optimizer state's array 'm/layer0.weight' has 5 numbers; the parameter has 2.",
            Assert.Throws<BackpropException>(() => trainer.Optimizer.SetState(wrongLength)).Message);
        Assert.Equal("The optimizer state has an array 'velocity/layer0.weight' that adam over these parameters does not keep.",
            Assert.Throws<BackpropException>(() => trainer.Optimizer.SetState(unknown)).Message);
    }
}
