using System.Numerics;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class SnapshotRecorderTests
{
    private static readonly Tensor<double> Grid = new([0.0, 0.25, 0.5, 0.75, 1.0], new Shape(5, 1));

    private static (TrainingResult Result, Sequential<double> Network) TrainLesson(TrainingOptions options, params TrainingMonitor<double>[] monitors)
    {
        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        return (trainer.Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), options, monitors), network);
    }

    private static Sequential<double> LessonAt(double[] values, IReadOnlyList<string> names)
    {
        var network = Lesson.CreateNetwork<double>();
        Lesson.SetValues(network, names.Zip(values).ToDictionary(p => p.First, p => p.Second));
        return network;
    }

    private static double Ssr(Sequential<double> network)
        => new SumSquaredResiduals().Compute(network.Predict(Datasets.Dosage.InputTensor<double>()), Datasets.Dosage.TargetTensor<double>()).Item();

    [Fact]
    public void Recording_does_not_change_training()
    {
        var (plain, plainNetwork) = TrainLesson(new TrainingOptions());
        var network = Lesson.CreateNetwork<double>();
        var recorder = new SnapshotRecorder<double>(network, Grid);
        var result = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1))
            .Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions(), [recorder]);

        Assert.Equal(plain.Steps, result.Steps);
        Assert.Equal(plain.LossHistory, result.LossHistory);
        Assert.Equal(plainNetwork.Elements().Select(e => e.Value), network.Elements().Select(e => e.Value));
    }

    [Fact]
    public void Snapshots_run_from_the_starting_values_to_the_final_ones()
    {
        var network = Lesson.CreateNetwork<double>();
        var recorder = new SnapshotRecorder<double>(network, Grid);
        var start = network.Elements().Select(e => e.Value).ToArray();
        var result = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1))
            .Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions(), [recorder]);
        var snapshots = recorder.Snapshots;

        Assert.Same(result, recorder.Result);
        Assert.Equal(0, snapshots[0].Step);
        Assert.Equal(start, snapshots[0].Values);
        Assert.Equal(result.InitialLoss, snapshots[0].Loss);
        Assert.Empty(snapshots[0].GradientNorms);
        Assert.Equal(result.Steps, snapshots[^1].Step);
        Assert.Equal(network.Elements().Select(e => e.Value), snapshots[^1].Values);
        Assert.Equal(result.FinalLoss, snapshots[^1].Loss);
        Assert.Equal(network.Predict(Grid).ToDoubleArray(), snapshots[^1].Outputs);
        Assert.Equal(["w1", "w2", "b1", "b2", "w3", "w4", "b3"], recorder.ValueNames);
    }

    [Fact]
    public void Each_snapshot_holds_the_outputs_and_loss_of_its_values_and_the_gradients_that_led_there()
    {
        var network = Lesson.CreateNetwork<double>();
        var recorder = new SnapshotRecorder<double>(network, Grid);
        new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1))
            .Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 6 }, [recorder]);
        var snapshots = recorder.Snapshots;

        Assert.Equal([0, 1, 2, 3, 4, 5, 6], snapshots.Select(s => s.Step));
        Assert.Equal(recorder.ValueNames, recorder.GradientGroups);
        for (var i = 0; i < snapshots.Count; i++)
        {
            var at = LessonAt(snapshots[i].Values, recorder.ValueNames);
            Assert.Equal(at.Predict(Grid).ToDoubleArray(), snapshots[i].Outputs);
            Assert.Equal(Ssr(at), snapshots[i].Loss, 1e-12);
            if (i == 0)
            {
                continue;
            }
            // The gradients of step i were computed at the values of step i - 1.
            var before = LessonAt(snapshots[i - 1].Values, recorder.ValueNames);
            new SumSquaredResiduals().Compute(before.Forward(Datasets.Dosage.InputTensor<double>()), Datasets.Dosage.TargetTensor<double>()).Backward();
            var expected = recorder.ValueNames.Select(n => Math.Abs(before.Element(n).Gradient)).ToArray();
            Assert.Equal(expected, snapshots[i].GradientNorms);
        }
    }

    [Fact]
    public void A_long_run_keeps_a_bounded_number_of_evenly_spaced_snapshots()
    {
        var network = Lesson.CreateNetwork<double>();
        var recorder = new SnapshotRecorder<double>(network, Grid, maxSnapshots: 50);
        new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1))
            .Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 10_001, MinStepSize = null }, [recorder]);
        var steps = recorder.Snapshots.Select(s => s.Step).ToList();

        Assert.True(BitOperations.IsPow2(recorder.Interval), $"interval {recorder.Interval}");
        Assert.InRange(steps.Count, 26, 53);
        Assert.Equal(0, steps[0]);
        Assert.Equal(10_001, steps[^1]);
        // Evenly spaced, except that the first step is always kept (its gradients start the gradients picture).
        Assert.Equal(1, steps[1]);
        var spaced = steps.SkipLast(1).Where(s => s != 1).ToList();
        Assert.Equal(spaced, Enumerable.Range(0, spaced.Count).Select(i => i * recorder.Interval));
        Assert.All(recorder.Snapshots.Skip(1), s => Assert.Equal(7, s.GradientNorms.Length));
    }

    [Fact]
    public void A_long_run_keeps_the_gradients_of_the_first_step()
    {
        var network = Lesson.CreateNetwork<double>();
        var recorder = new SnapshotRecorder<double>(network, Grid, maxSnapshots: 20);
        new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1))
            .Fit(Datasets.Dosage.InputTensor<double>(), Datasets.Dosage.TargetTensor<double>(), new TrainingOptions { MaxSteps = 1000, MinStepSize = null }, [recorder]);

        var first = recorder.Snapshots[1];
        Assert.Equal(1, first.Step);
        // The lesson's first-step derivatives (reference/lesson.md), in the recorder's order.
        var lesson = new Dictionary<string, double> { ["w1"] = 0.7609, ["b1"] = 0.9673, ["w2"] = 0.3323, ["b2"] = 0.7322, ["w3"] = 7.1423, ["w4"] = 1.4873, ["b3"] = 3.4595 };
        for (var i = 0; i < recorder.GradientGroups.Count; i++)
        {
            Assert.Equal(lesson[recorder.GradientGroups[i]], first.GradientNorms[i], 4);
        }
    }

    [Fact]
    public void Larger_networks_get_one_gradient_norm_per_layer()
    {
        var network = Sequential<double>.Mlp([1, 4, 1], Activation.Tanh);
        new StandardNormalInitializer(seed: 5).Initialize(network);
        var recorder = new SnapshotRecorder<double>(network, maxValues: 3);
        var x = Datasets.Dosage.InputTensor<double>();
        var y = Datasets.Dosage.TargetTensor<double>();
        new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.05))
            .Fit(x, y, new TrainingOptions { MaxSteps = 1 }, [recorder]);

        Assert.Equal(["layer0", "layer1"], recorder.GradientGroups);
        Assert.Equal(["layer0.weight[0,0]", "layer0.weight[0,1]", "layer0.weight[0,2]"], recorder.ValueNames);
        Assert.Empty(recorder.Snapshots[0].Outputs);
        // The gradients of step 1 were computed at the starting values: recompute them there.
        var again = Sequential<double>.Mlp([1, 4, 1], Activation.Tanh);
        new StandardNormalInitializer(seed: 5).Initialize(again);
        new SumSquaredResiduals().Compute(again.Forward(x), y).Backward();
        var layers = again.Layers.Select(l => Math.Sqrt(l.Parameters().SelectMany(p => p.Grad!.ToDoubleArray()).Sum(g => g * g)));
        Assert.Equal(layers, recorder.Snapshots[1].GradientNorms);
    }
}
