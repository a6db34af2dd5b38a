using System.Numerics;
using Backprop.Tensors;

namespace Backprop.Nn;

/// <summary>
/// The reference CNN for 28×28 grey images (Fashion-MNIST), the network the project measures its
/// convolutions by (the issue's, and TorchSharp's <c>cnn</c> workload): conv 1→32 3×3 padding 1, ReLU,
/// max-pool 2, conv 32→64 3×3 padding 1, ReLU, max-pool 2, flatten, dense 3136→128 ReLU, dense 128→10.
/// </summary>
/// <remarks>
/// The same network as the <c>--net</c> item list
/// <c>conv 32 3 pad 1, relu, maxpool 2, conv 64 3 pad 1, relu, maxpool 2, flatten, dense 128 relu, dense 10</c>
/// on [1, 28, 28]: 421,642 parameters. <c>backprop bench</c>'s <c>cnn</c> workload, the benchmarks and the
/// tests build it here.
/// </remarks>
public static class ReferenceCnn
{
    /// <summary>The shape of one example it takes: [1, 28, 28].</summary>
    public static Shape InputShape => new(1, 28, 28);

    /// <summary>Builds the network with He starting values drawn from <paramref name="seed"/> (biases 0).</summary>
    public static Sequential<T> Create<T>(ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = new Sequential<T>(
            new Conv2d<T>(1, 32, 3, padding: 1, activation: Activation.Relu),
            new MaxPool2d<T>(2),
            new Conv2d<T>(32, 64, 3, padding: 1, activation: Activation.Relu),
            new MaxPool2d<T>(2),
            new Flatten<T>(),
            new Dense<T>(64 * 7 * 7, 128, Activation.Relu),
            new Dense<T>(128, 10));
        new HeInitializer(seed).Initialize(network);
        return network;
    }
}
