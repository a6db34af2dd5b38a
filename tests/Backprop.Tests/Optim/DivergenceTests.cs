using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Optim;

/// <summary>
/// "Divergence keeps the last finite parameters" holds for every rule and every update, the first
/// included: an update that would make a number (or the rule's state) NaN or infinite changes nothing.
/// </summary>
public sealed class DivergenceTests
{
    [Theory]
    [InlineData("gd", 1e308)]
    [InlineData("gd", 1.7e308)]
    [InlineData("momentum", 1e308)]
    [InlineData("momentum", 1.7e308)]
    [InlineData("adam", 1e308)]
    [InlineData("adam", 1.7e308)]
    public void A_learning_rate_that_overflows_stops_training_with_every_parameter_finite(string rule, double lr)
    {
        foreach (var loss in (Loss[])[new SumSquaredResiduals(), new MeanSquaredError()])
        {
            var network = Lesson.CreateNetwork<double>();
            var trainer = new Trainer<double>(network, loss, Optimizer<double>.Create(rule, network.Parameters(), lr));

            var result = trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 100, MinStepSize = null });

            Assert.Equal(StopReason.Diverged, result.StopReason);
            Assert.All(network.Elements(), e => Assert.True(double.IsFinite(e.Value), $"{rule}, lr {lr}: {e.Name} = {e.Value}; {result.StopMessage}"));
            Assert.DoesNotContain("had already made", result.StopMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("momentum")]
    public void The_first_update_of_adam_and_momentum_is_refused_when_it_would_overflow(string rule)
    {
        var network = Lesson.CreateNetwork<float>();
        var trainer = new Trainer<float>(network, new SumSquaredResiduals(), Optimizer<float>.Create(rule, network.Parameters(), 3e38));

        var result = trainer.Fit(Datasets.Dosage.InputTensor<float>(), Datasets.Dosage.TargetTensor<float>(), new TrainingOptions { MaxSteps = 100, MinStepSize = null });

        Assert.Equal(0, result.Steps);
        Assert.Matches($"^the update of step 1 would make (w1|b1|w2|b2|w3|w4|b3) infinite \\({rule}'s update overflowed\\); training stopped before this update, keeping the last finite parameters", result.StopMessage);
        Assert.Equal([2.74f, 0, -1.13f, 0, 0.36f, 0.63f, 0], network.Elements().OrderBy(e => Array.IndexOf(Lesson.ParameterNames.ToArray(), e.Name)).Select(e => e.Value));
        Assert.Equal(0, trainer.Optimizer.StepCount);
        Assert.Empty(trainer.Optimizer.GetState().Arrays);
    }

    // A number near the largest double, and a finite step towards it: old + step overflows though the step does not.
    private static (Parameter<double> P, Optimizer<double> Optimizer) NearTheEdge(string rule, double gradient)
    {
        var p = new Parameter<double>("p", new Shape(3));
        p[0] = 1.0;
        p[1] = 1.5e308;
        p[2] = -2.0;
        var optimizer = Optimizer<double>.Create(rule, [p], 1e308);
        (p * Tensor<double>.FromArray([0.5, gradient, 0.25], 3)).Sum().Backward();
        return (p, optimizer);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_finite_step_that_carries_a_number_past_the_largest_double_changes_nothing(string rule)
    {
        var (p, optimizer) = NearTheEdge(rule, -1.0);

        optimizer.Step();

        Assert.True(optimizer.LastStepSkipped);
        Assert.Equal((0, 1, (string?)null, false), optimizer.LastOverflow);
        Assert.Equal([1.0, 1.5e308, -2.0], p.Data.ToArray());
        Assert.Equal(0, optimizer.StepCount);
        Assert.Empty(optimizer.GetState().Arrays);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_step_away_from_the_edge_is_made_as_usual(string rule)
    {
        var (p, optimizer) = NearTheEdge(rule, 1e-300);

        optimizer.Step();

        Assert.False(optimizer.LastStepSkipped);
        Assert.Null(optimizer.LastOverflow);
        Assert.Equal(1, optimizer.StepCount);
        Assert.All(p.Data.ToArray(), v => Assert.True(double.IsFinite(v)));
        Assert.NotEqual(1.0, p[0]);
    }

    [Fact]
    public void Momentum_whose_velocity_would_overflow_keeps_its_state()
    {
        var p = new Parameter<double>("p", new Shape(1));
        var optimizer = new Momentum<double>([p], 1e-300, momentum: 0.9);
        (p * Tensor<double>.FromArray([1e308], 1)).Sum().Backward();
        optimizer.Step();
        var velocity = optimizer.GetState().Arrays.Single().Value[0];
        p.ZeroGrad();
        (p * Tensor<double>.FromArray([1.7e308], 1)).Sum().Backward();

        optimizer.Step();   // v ← 0.9·1e308 + 1.7e308 overflows, and so would the value

        Assert.True(optimizer.LastStepSkipped);
        Assert.Equal((0, 0, (string?)null, false), optimizer.LastOverflow);
        Assert.Equal(velocity, optimizer.GetState().Arrays.Single().Value[0]);
        Assert.Equal(1, optimizer.StepCount);
    }
}
