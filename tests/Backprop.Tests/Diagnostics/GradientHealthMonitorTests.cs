using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Diagnostics;

public sealed class GradientHealthMonitorTests
{
    private static readonly Tensor<double> X = Datasets.Dosage.InputTensor<double>();
    private static readonly Tensor<double> Y = Datasets.Dosage.TargetTensor<double>();

    private static (TrainingResult Result, GradientHealthMonitor<double> Health) Train(Module<double> network, double lr, TrainingOptions options)
    {
        var health = new GradientHealthMonitor<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), lr));
        return (trainer.Fit(X, Y, options, [health]), health);
    }

    [Fact]
    public void A_deep_sigmoid_network_has_vanishing_gradients_in_its_first_layers_only()
    {
        var network = Sequential<double>.Mlp([1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1], Activation.Sigmoid);
        new XavierInitializer(1).Initialize(network);

        var (result, health) = Train(network, 0.1, new TrainingOptions { MaxSteps = 15, MinStepSize = null });

        Assert.Equal(15, result.Steps);
        Assert.False(health.PerNumber);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"layer{i}"), health.Groups);
        var vanishing = health.Warnings.Where(w => w.Kind == GradientWarningKind.Vanishing).ToDictionary(w => w.Group, w => w.Step);
        // The first layer's norm is below 1e-6 from the first step: warned after 10 steps. The last layers'
        // gradients are still large.
        Assert.Equal(10, vanishing["layer0"]);
        Assert.Contains("while layer11's is", health.Warnings[0].Message, StringComparison.Ordinal);
        Assert.DoesNotContain("layer10", vanishing.Keys);
        Assert.DoesNotContain("layer11", vanishing.Keys);
        var first = health.NormsAt(1);
        Assert.True(first[0] < 1e-6 && first[11] > 1e-2, $"layer0 {first[0]}, layer11 {first[11]}");
        var summary = health.Summary();
        Assert.Equal(15, summary[0].VanishingSteps);
        Assert.Equal(first[0], summary[0].First);
    }

    [Fact]
    public void A_learning_rate_too_large_explodes_and_training_stops_with_finite_parameters()
    {
        var network = Lesson.CreateNetwork<double>();

        var (result, health) = Train(network, 2, new TrainingOptions());

        Assert.True(health.PerNumber);
        Assert.Contains(health.Warnings, w => w.Kind == GradientWarningKind.Exploding && w.Group == "b3");
        Assert.Equal(StopReason.Diverged, result.StopReason);
        var stop = Assert.Single(health.Warnings, w => w.Kind == GradientWarningKind.NonFinite);
        Assert.Contains("infinite", stop.Message, StringComparison.Ordinal);
        Assert.Contains("ssr", stop.Message, StringComparison.Ordinal); // the fused SSR op, where (observed − predicted)² overflows
        Assert.All(network.Elements(), e => Assert.True(double.IsFinite(e.Value), $"{e.Name} = {e.Value}"));
        Assert.Equal(result.Steps, health.Steps);
    }

    [Fact]
    public void A_NaN_gradient_stops_training_before_the_update_and_names_the_parameter_and_the_operation()
    {
        var network = new InjectedModule(nanGradient: true);
        var before = network.Elements().Select(e => e.Value).ToArray();

        var (result, health) = Train(network, 0.1, new TrainingOptions());

        Assert.Equal(0, result.Steps);
        Assert.Equal(StopReason.Diverged, result.StopReason);
        Assert.Contains("the gradient of inner.weight[0,0] became NaN in step 1", result.StopMessage, StringComparison.Ordinal);
        Assert.Contains("backward pass of nan_rule", result.StopMessage, StringComparison.Ordinal);
        Assert.Equal(before, network.Elements().Select(e => e.Value));
        Assert.Equal(GradientWarningKind.NonFinite, Assert.Single(health.Warnings).Kind);
    }

    [Fact]
    public void An_update_that_overflows_is_undone()
    {
        // Gradients are finite (about 1e300) but the update lr × gradient overflows to infinity.
        var network = Sequential<double>.Mlp([1, 1], Activation.Identity);
        network.Elements().First().Parameter.Data[0] = 1e150;
        var x = Tensor<double>.FromArray([1.0], 1, 1);
        var y = Tensor<double>.FromArray([0.0], 1, 1);
        var health = new GradientHealthMonitor<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 1e160));

        var result = trainer.Fit(x, y, new TrainingOptions(), [health]);

        Assert.Equal(StopReason.Diverged, result.StopReason);
        // NOTE: gradient descent refuses the step before making it (it used to be made and undone by the monitor).
        Assert.Contains("the update of step 1 would make layer0.weight[0,0] infinite", result.StopMessage, StringComparison.Ordinal);
        Assert.Equal(1e150, network.Elements().First().Value);
    }

    [Fact]
    public void Dead_relu_units_are_counted_and_reported()
    {
        var network = Sequential<double>.Mlp([1, 4, 1], Activation.Relu);
        new StandardNormalInitializer(2).Initialize(network);
        var hidden = (Dense<double>)network.Layers[0];
        hidden.Bias.Data.Fill(-10); // every unit's input is below 0 for every dosage: all dead

        var (_, health) = Train(network, 0.1, new TrainingOptions { MaxSteps = 3 });

        var dead = Assert.Single(health.DeadRelus);
        Assert.Equal(("layer0", 4, 1.0), (dead.Name, dead.Units, dead.Last));
        Assert.Contains(health.Warnings, w => w.Kind == GradientWarningKind.DeadRelu && w.Message.Contains("4 of 4", StringComparison.Ordinal));
    }

    [Fact]
    public void The_lessons_run_is_healthy()
    {
        var (result, health) = Train(Lesson.CreateNetwork<double>(), 0.1, new TrainingOptions());

        Assert.Equal(StopReason.StepSizeBelowThreshold, result.StopReason);
        Assert.Empty(health.Warnings);
        Assert.Equal(["w1", "b1", "w2", "b2", "w3", "w4", "b3"], health.Groups);
        Assert.Equal(result.Steps, health.Steps);
        Assert.Equal(0.7609437196206793, health.NormsAt(1)[0], 1e-12); // |dSSR/dw1| at the start
    }

    [Fact]
    public void Thresholds_out_of_range_are_refused()
        => Assert.Throws<BackpropException>(() => new GradientHealthMonitor<double>(new GradientHealthOptions { GrowthFactor = 0.5 }));

    /// <summary>Each number's largest |gradient| over every step.</summary>
    private sealed class LargestGradient : TrainingMonitor<double>
    {
        public Dictionary<string, double> Max { get; } = [];

        public override void OnGradients(Trainer<double> trainer, int step, double loss, Backprop.Autograd.Graph<double> graph)
        {
            foreach (var e in trainer.Model.Elements())
            {
                Max[e.Name] = Math.Max(Max.GetValueOrDefault(e.Name), Math.Abs(e.Gradient));
            }
        }
    }

    [Fact]
    public void A_long_run_keeps_a_bounded_thinned_record_of_norms_and_a_summary_of_every_step()
    {
        // 10,000 full-batch steps of the lesson: more than MaxKeptSteps, so the norms are thinned.
        var network = Lesson.CreateNetwork<double>();
        var health = new GradientHealthMonitor<double>();
        var largest = new LargestGradient();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));

        var result = trainer.Fit(X, Y, new TrainingOptions { MaxSteps = 10_000, MinStepSize = null }, [health, largest]);

        Assert.Equal(10_000, result.Steps);
        Assert.Equal(10_000, health.Steps);
        var kept = health.RecordedSteps;
        Assert.InRange(kept.Count, GradientHealthMonitor<double>.MaxKeptSteps / 2, GradientHealthMonitor<double>.MaxKeptSteps + 1);
        Assert.Equal(1, kept[0]);
        Assert.Equal(10_000, kept[^1]);
        var interval = kept[1] - kept[0];
        Assert.Equal(4, interval); // 10,000 steps need a grid of every 4th step to fit 4,096
        Assert.All(kept.SkipLast(1), s => Assert.Equal(0, (s - 1) % interval));
        Assert.Throws<ArgumentOutOfRangeException>(() => health.NormsAt(2));
        // The summary covers every step, kept or not: per number (the lesson is watched number by
        // number) the largest norm is the largest |gradient| of any step.
        Assert.True(health.PerNumber);
        foreach (var g in health.Summary())
        {
            Assert.Equal(largest.Max[g.Name], g.Max);
            Assert.Equal(g.Last, health.NormsAt(10_000)[health.Groups.ToList().IndexOf(g.Name)]);
            Assert.Equal(g.First, health.NormsAt(1)[health.Groups.ToList().IndexOf(g.Name)]);
        }
    }
}
