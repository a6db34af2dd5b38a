using System.Diagnostics;
using System.Globalization;
using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Benchmarks;

/// <summary>
/// The Fashion-MNIST target for the reference CNN, measured through the library:
/// <c>dotnet run -c Release --project benchmarks/Backprop.Benchmarks -- fmnist-cnn [epochs]</c>.
/// </summary>
/// <remarks>
/// As <c>backprop train --dataset fashion-mnist</c> splits and trains: 10% of the training rows held out
/// for validation with seed 1, batches of 128 shuffled with seed 1, Adam lr 0.001, He initialisation
/// with seed 1, cross-entropy, float. Images reach the network as [N, 1, 28, 28] (pixels scaled to 0…1).
/// Prints each epoch's time, training loss and validation accuracy, then the test accuracy and the
/// process's peak resident memory.
/// </remarks>
internal static class FashionMnistCnn
{
    public static void Run(int epochs)
    {
        var (train, validation) = FashionMnist.LoadTrain().Split(6000, 1);
        var test = FashionMnist.LoadTest();
        var x = Images(train);
        var y = train.TargetTensor<float>();
        var network = ReferenceCnn.Create<float>(1);
        var trainer = new Trainer<float>(network, new CrossEntropy(), new Adam<float>(network.Parameters(), 0.001));
        var (vx, vy) = (Images(validation), validation.TargetTensor<float>());
        var epochClock = new EpochClock(trainer, vx, vy);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Fashion-MNIST, reference CNN ({network.ParameterCount()} parameters), {train.Count} training rows, {validation.Count} validation, {test.Count} test; {Parallelism.MaxDegreeOfParallelism} threads"));
        var result = trainer.Fit(x, y, new TrainingOptions { Epochs = epochs, BatchSize = 128, ShuffleSeed = 1, MaxSteps = int.MaxValue, MinStepSize = null }, [epochClock]);
        var scored = trainer.Evaluator.Evaluate(Images(test), test.TargetTensor<float>());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Test accuracy after {epochs} epochs ({result.Steps} steps): {100 * scored.Accuracy:F2}% (loss {scored.Loss:F4}); peak resident memory {PeakResidentMiB():F0} MiB; {result.StopReason}"));
    }

    private static Tensor<float> Images(Dataset data)
    {
        var t = data.InputTensor<float>();
        // A view of the same storage as [N, 1, 28, 28] (no copy).
        return t.Reshape(data.Count, 1, 28, 28);
    }

    // VmHWM: the largest resident set the process has had.
    private static double PeakResidentMiB()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private sealed class EpochClock(Trainer<float> trainer, Tensor<float> vx, Tensor<float> vy) : TrainingMonitor<float>
    {
        private long start = Stopwatch.GetTimestamp();
        private double loss;
        private int steps;

        public override void OnStep(Trainer<float> t, in StepInfo info)
        {
            loss += info.Loss;
            steps++;
        }

        public override void OnEpochEnd(Trainer<float> t, int epoch)
        {
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var v = trainer.Evaluator.Evaluate(vx, vy);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch}: {seconds:F1} s, training loss {loss / steps:F4}, validation accuracy {100 * v.Accuracy:F2}%"));
            (loss, steps) = (0, 0);
            start = Stopwatch.GetTimestamp();
        }
    }
}
