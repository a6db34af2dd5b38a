using System.Numerics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Distributed;

/// <summary>
/// A small seeded problem that every rank (thread or process) builds identically: a 4-8-6-k tanh
/// network and rows of data, for each loss.
/// </summary>
internal static class DdpProblem
{
    public const int Inputs = 4;

    public static Loss Loss(string name) => Backprop.Losses.Loss.Create(name);

    public static Tensor<T> X<T>(int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(11);
        return Tensor<T>.FromArray([.. Enumerable.Range(0, rows * Inputs).Select(_ => T.CreateChecked(rng.NextNormal()))], rows, Inputs);
    }

    /// <summary>Targets: two outputs (0 or 1 each for binary cross-entropy), or a class of three for cross-entropy.</summary>
    public static Tensor<T> Y<T>(string loss, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = X<double>(rows);
        if (Loss(loss).IsClassification)
        {
            return Tensor<T>.FromArray([.. Enumerable.Range(0, rows).Select(r => T.CreateChecked((int)Math.Abs(Math.Floor(x.Data[r * Inputs] + x.Data[(r * Inputs) + 1])) % 3))], rows);
        }
        var values = Enumerable.Range(0, rows * 2).Select(i => Math.Sin(x.Data[(i / 2 * Inputs) + (i % 2)]) + (0.5 * x.Data[(i / 2 * Inputs) + 3]));
        // Binary cross-entropy: 0 or 1 per output.
        return Tensor<T>.FromArray([.. values.Select(v => T.CreateChecked(loss == "bce" ? (v > 0 ? 1 : 0) : v))], rows, 2);
    }

    public static Sequential<T> Network<T>(string loss, ulong seed = 5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Sequential<T>.Mlp([Inputs, 8, 6, Loss(loss).IsClassification ? 3 : 2], Activation.Tanh);
        new XavierInitializer(seed).Initialize(network);
        return network;
    }

    public static Trainer<T> Trainer<T>(string loss, string optimizer, double learningRate, ulong seed = 5) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Network<T>(loss, seed);
        return new Trainer<T>(network, Loss(loss), Optimizer<T>.Create(optimizer, network.Parameters(), learningRate));
    }

    public static T[] Parameters<T>(Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>
        => [.. model.Parameters().SelectMany(p => p.Data.ToArray())];

    /// <summary>Each parameter's gradient as the step's monitors see it (after the sum over processes).</summary>
    public sealed class GradientRecorder<T> : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public List<T[]> Steps { get; } = [];

        public override void OnGradients(Trainer<T> trainer, int step, double loss, Backprop.Autograd.Graph<T> graph)
            => Steps.Add([.. trainer.Optimizer.Parameters.SelectMany(p => p.Grad!.Data.ToArray())]);
    }
}
