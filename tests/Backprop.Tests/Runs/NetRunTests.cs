using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Runs;

/// <summary>Runs of networks written as layer items (<see cref="NetworkSpec"/>, the command's --net).</summary>
public sealed class NetRunTests
{
    private static readonly TrainingOptions Epochs = new() { Epochs = 6, BatchSize = 16, MaxSteps = int.MaxValue, MinStepSize = null, ShuffleSeed = 2 };

    private static Dataset Xor(int copies = 1)
    {
        double[] inputs = [.. Enumerable.Repeat<double[]>([0, 0, 0, 1, 1, 0, 1, 1], copies).SelectMany(x => x)];
        int[] labels = [.. Enumerable.Repeat<int[]>([0, 1, 1, 0], copies).SelectMany(x => x)];
        return Dataset.ForClassification("xor", inputs, labels, ["a", "b"], "class", ["no", "yes"]);
    }

    // 6×6 grey images: class 1 has a bright vertical bar, class 0 a horizontal one, at a seeded place.
    private static Dataset Bars(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var pixels = new double[count * 36];
        var labels = new int[count];
        for (var n = 0; n < count; n++)
        {
            labels[n] = n % 2;
            var at = (int)(rng.NextDouble() * 6);
            for (var i = 0; i < 6; i++)
            {
                pixels[(n * 36) + (labels[n] == 1 ? (i * 6) + at : (at * 6) + i)] = 1;
            }
        }
        return Dataset.ForClassification("bars", pixels, labels, [.. Enumerable.Range(0, 36).Select(i => $"p{i}")], "class", ["horizontal", "vertical"]);
    }

    [Fact]
    public void A_dense_net_trains_bit_for_bit_as_the_same_layers_option()
    {
        RunResult<double> Run(NetworkRecipe recipe) => (RunResult<double>)new TrainingRun(new RunSpec
        {
            Data = new RunData(Xor(8)),
            Network = recipe with { Seed = 5 },
            Loss = new CrossEntropy(),
            Optimizer = OptimizerKind.Adam,
            LearningRate = 0.05,
            Options = Epochs,
        }).Run();

        var layers = Run(new NetworkRecipe([2, 8, 2], Activation.Relu));
        var net = Run(NetworkRecipe.Of(NetworkSpec.Parse("dense 8, relu, dense 2"), new Shape(2)));

        Assert.Equal(layers.Network.Describe(), net.Network.Describe());
        Assert.Equal(layers.Parameters(), net.Parameters());
        Assert.Equal(layers.Result.FinalLoss, net.Result.FinalLoss);
        Assert.Equal("he", net.Spec.Network.InitName);
    }

    [Fact]
    public void A_conv_net_takes_image_rows_as_images_and_learns_them()
    {
        var data = new RunData(Bars(64, 1), Test: Bars(32, 2)) { ImageSize = (6, 6) };
        var spec = new RunSpec
        {
            Data = data,
            Network = NetworkRecipe.Of(NetworkSpec.Parse("conv 4 3 pad 1 relu, batchnorm, maxpool 2, flatten, dropout 0.1, dense 2"), new Shape(1, 6, 6)),
            Loss = new CrossEntropy(),
            Optimizer = OptimizerKind.Adam,
            LearningRate = 0.05,
            Options = Epochs with { Epochs = 15 },
            Precision = Precision.Float,
        };

        var run = (RunResult<float>)new TrainingRun(spec).Run();

        Assert.Equal("Conv2d(1 → 4, 3×3, padding 1, ReLU) → BatchNorm2d(4) → MaxPool2d(2×2) → Flatten → Dropout(p = 0.1) → Dense(36 → 2, Identity)", run.NetworkDescription);
        Assert.Equal(40 + 8 + 74, run.ParameterCount);
        Assert.True(run.Test!.Value.Accuracy >= 0.9, $"test accuracy {run.Test.Value.Accuracy}");
        // The test rows scored by the run are the evaluator's, images in evaluation mode.
        var evaluator = new Evaluator<float>(run.Network, new CrossEntropy()) { ExampleShape = new Shape(1, 6, 6) };
        Assert.Equal(evaluator.Evaluate(data.Test!).Loss, run.Test.Value.Loss);
        Assert.Equal(run.Predict(data.Test!), run.Network.Predict(new Tensor<float>([.. data.Test!.Inputs.ToArray().Select(v => (float)v)], new Shape(32, 1, 6, 6))).ToDoubleArray());
    }

    [Theory]
    [InlineData("dense 8 relu, dense 3", "--net ends with 3 outputs but the data (xor) has 2 classes: end it with dense 2, one output per class.")]
    [InlineData("dense 8 relu, dense 2, dropout 0.5", null)]
    public void A_net_must_end_in_one_output_per_class(string text, string? message)
    {
        var spec = new RunSpec { Data = new RunData(Xor()), Network = NetworkRecipe.Of(NetworkSpec.Parse(text), new Shape(2)), Loss = new CrossEntropy() };

        if (message is null)
        {
            spec.Validate();
        }
        else
        {
            Assert.Equal(message, Assert.Throws<BackpropException>(spec.Validate).Message);
        }
    }

    [Fact]
    public void A_net_that_ends_in_images_or_asks_for_the_lessons_values_is_refused()
    {
        var images = NetworkRecipe.Of(NetworkSpec.Parse("conv 2 3"), new Shape(1, 6, 6));
        var rows = NetworkRecipe.Of(NetworkSpec.Parse("dense 2"), new Shape(2));

        Assert.Equal("--net ends with examples of shape [2, 4, 4]; end it with rows of numbers (flatten, then dense N).", Assert.Throws<BackpropException>(images.Validate).Message);
        Assert.Equal("--stage is for the lesson's network (--layers 1,2,1), not for --net.", Assert.Throws<BackpropException>((rows with { Stage = 1 }).Validate).Message);
        Assert.Equal("--init lesson gives the lesson's starting values, which fit only --layers 1,2,1, not --net.", Assert.Throws<BackpropException>((rows with { Init = "lesson" }).Validate).Message);
    }
}
