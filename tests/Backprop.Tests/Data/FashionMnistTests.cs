using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Tests.Data;

/// <summary>A test that needs Debian's dataset-fashion-mnist package; skipped, saying so, where it is not installed (.ci/run installs it).</summary>
internal sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!File.Exists(Path.Combine(FashionMnist.DefaultDirectory, "train-labels-idx1-ubyte.gz")))
        {
            Skip = $"Fashion-MNIST is not installed (apt-get install {FashionMnist.DebianPackage})";
        }
    }
}

public sealed class FashionMnistTests
{
    // Loaded once for the class: reading 60,000 images takes a moment.
    private static readonly Lazy<Dataset> Train = new(() => FashionMnist.LoadTrain());
    private static readonly Lazy<Dataset> Test = new(() => FashionMnist.LoadTest());

    [FashionMnistFact]
    public void The_package_has_60000_training_and_10000_test_images_of_784_pixels()
    {
        Assert.Equal(60000, Train.Value.Count);
        Assert.Equal(10000, Test.Value.Count);
        Assert.Equal(784, Train.Value.InputCount);
        Assert.Equal("pixel784", Train.Value.InputNames[^1]);
        Assert.Equal(["label"], Train.Value.TargetNames);
        Assert.Equal(FashionMnist.ClassNames, Train.Value.ClassNames);
        Assert.Equal("Ankle boot", Train.Value.ClassNames![9]);
    }

    [FashionMnistFact]
    public void Labels_are_the_files_in_order_and_balanced()
    {
        // The first ten labels of each file (read with Python's gzip module).
        Assert.Equal([9.0, 0, 0, 3, 0, 2, 7, 2, 5, 5], Train.Value.Targets[..10].ToArray());
        Assert.Equal([9.0, 2, 1, 1, 6, 1, 4, 6, 5, 7], Test.Value.Targets[..10].ToArray());
        foreach (var c in Enumerable.Range(0, 10))
        {
            Assert.Equal(6000, Train.Value.Targets.ToArray().Count(t => t == c));
            Assert.Equal(1000, Test.Value.Targets.ToArray().Count(t => t == c));
        }
    }

    [FashionMnistFact]
    public void Pixels_are_bytes_over_255()
    {
        var first = Enumerable.Range(0, 784).Select(i => Train.Value.Input(0, i)).ToArray();

        // The first image's pixel bytes sum to 76247 with a maximum of 255.
        Assert.Equal(76247 / 255.0, first.Sum(), 9);
        Assert.Equal(1.0, first.Max());
        Assert.Equal(0.0, first.Min());
    }

    [FashionMnistFact]
    public void A_small_network_learns_from_the_first_2000_images()
    {
        var train = Train.Value.Take(2000);
        var test = Test.Value.Take(1000);
        var network = Sequential<float>.Mlp([784, 32, 10], Activation.Relu);
        new HeInitializer(1).Initialize(network);
        var trainer = new Trainer<float>(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.003));
        var history = new EpochHistoryMonitor<float>(test);

        trainer.Fit(train.InputTensor<float>(), train.TargetTensor<float>(), new TrainingOptions { Epochs = 3, BatchSize = 64, MaxSteps = int.MaxValue, MinStepSize = null }, [history]);

        Assert.Equal(3, history.History.Count);
        var score = new Evaluator<float>(network, new CrossEntropy()).Evaluate(test);
        // Chance is 10%; three epochs on 2,000 images reach well above 70%.
        Assert.True(score.Accuracy > 0.70, $"test accuracy {score.Accuracy}");
        Assert.True(history.History[^1].TrainLoss < history.History[0].TrainLoss);
        Assert.Equal(score.Accuracy, history.History[^1].ValidationAccuracy);
    }

    [Fact]
    public void A_missing_package_says_which_to_install()
    {
        var folder = Path.Combine(Path.GetTempPath(), "backprop-no-fashion-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<BackpropException>(() => FashionMnist.LoadTrain(folder));

        Assert.Equal($"Fashion-MNIST is not installed: {folder}/train-images-idx3-ubyte.gz is missing. Install Debian's package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist).", e.Message);
    }
}
