using Backprop.Autograd;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Autograd;

/// <summary>
/// The graph skips zeroing a gradient that one operation alone uses and can set (pools, the
/// convolution's input, reshape): every gradient must still be what zeroing and adding gives, bit
/// for bit, whatever the skipped buffers held, and a tensor with two users must still be zeroed.
/// </summary>
public sealed class GradientSettingTests
{
    private sealed class Net
    {
        public Tensor<double> X { get; } = Uniform(new Rng(1), -1, 1, [3, 2, 6, 6], name: "x");
        public Tensor<double> W1 { get; } = Uniform(new Rng(2), -0.5, 0.5, [4, 2, 3, 3], requiresGrad: true, name: "w1");
        public Tensor<double> W2 { get; } = Uniform(new Rng(3), -0.5, 0.5, [5, 4, 3, 3], requiresGrad: true, name: "w2");
        public Tensor<double> V { get; } = Uniform(new Rng(4), -0.5, 0.5, [5 * 9, 3], requiresGrad: true, name: "v");
        public Tensor<double> Labels { get; } = Tensor<double>.FromArray([0, 2, 1], 3);

        // conv → maxpool → conv → avgpool → reshape → matmul: every kind that sets its input's gradient.
        public Tensor<double> Loss(bool reuse)
        {
            var h = X.Conv2d(W1, padding: 1).Relu().MaxPool2d(2);       // [3, 4, 3, 3]
            var z = h.Conv2d(W2, padding: 1).Tanh().AvgPool2d(1);       // [3, 5, 3, 3]
            var flat = z.Reshape(3, 45);
            var loss = flat.MatMul(V).SoftmaxCrossEntropy(Labels);
            // With reuse, the pool's output has a second user: it must be zeroed, not set.
            return reuse ? loss + (h * h).Sum() : loss;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_gradient_is_what_zeroing_and_adding_gives(bool reuse)
    {
        var net = new Net();
        var loss = net.Loss(reuse);
        var graph = new Graph<double>(loss);
        graph.Backward(); // allocates every gradient

        // Garbage in every intermediate gradient and the leaves zeroed: a skipped zeroing that is not
        // made good by the operation would leave NaN.
        foreach (var op in graph.Operations)
        {
            op.Output.Grad!.Data.Fill(double.NaN);
        }
        ZeroLeaves(net);
        graph.Backward();
        var set = Snapshot(graph, net);

        // The reference: every gradient zeroed, every rule adding, op by op in reverse order.
        foreach (var op in graph.Operations)
        {
            op.Output.Grad!.Data.Clear();
        }
        ZeroLeaves(net);
        loss.Grad!.Data[0] = 1;
        for (var i = graph.Operations.Count - 1; i >= 0; i--)
        {
            Assert.Equal(0, graph.Operations[i].GradientsToSet);
            graph.Operations[i].Backward();
        }
        var added = Snapshot(graph, net);

        Assert.Equal(added.Count, set.Count);
        for (var i = 0; i < added.Count; i++)
        {
            Assert.False(set[i].Any(double.IsNaN), $"gradient {i} kept garbage");
            Assert.Equal(added[i], set[i]);
        }
    }

    [Fact]
    public void The_graph_sets_gradients_only_where_one_operation_uses_the_tensor()
    {
        var net = new Net();
        var graph = new Graph<double>(net.Loss(reuse: true));
        var plan = graph.Operations.Select((op, i) => (op.Name, graph.GradientsToSet(i))).ToList();

        // The max pool's output h has three uses (the second convolution, and twice in h·h), so it
        // is zeroed and the convolution adds to it; the other pools and the reshape are the only
        // users of their inputs and set them.
        Assert.Equal([("conv2d", 0), ("relu", 0), ("maxpool2d", 1), ("conv2d", 0), ("tanh", 0), ("avgpool2d", 1), ("reshape", 1)],
            plan.Where(p => p.Name is "conv2d" or "relu" or "maxpool2d" or "tanh" or "avgpool2d" or "reshape"));
        graph.Backward();
        Assert.All(graph.Operations, op => Assert.Equal(0, op.GradientsToSet)); // reset after the pass
    }

    [Fact]
    public void A_second_graph_over_the_same_operations_makes_its_own_plan()
    {
        // In graph 1 the pool's output has one user; in graph 2 (its loss plus a second use of that
        // output) it has two. Graph 1's plan must not leak into graph 2.
        var net = new Net();
        var x = net.X.Conv2d(net.W1, padding: 1);
        var pooled = x.MaxPool2d(2);
        var first = pooled.Sum();
        new Graph<double>(first).Backward();
        var second = first + (pooled * pooled).Sum();
        net.W1.ZeroGrad();
        new Graph<double>(second).Backward();
        var viaGraph = net.W1.Grad!.ToDoubleArray();

        var x2 = net.X.Conv2d(net.W1, padding: 1);
        var p2 = x2.MaxPool2d(2);
        net.W1.ZeroGrad();
        (p2.Sum() + (p2 * p2).Sum()).Backward();

        Assert.Equal(net.W1.Grad!.ToDoubleArray(), viaGraph);
    }

    private static void ZeroLeaves(Net net)
    {
        net.W1.ZeroGrad();
        net.W2.ZeroGrad();
        net.V.ZeroGrad();
    }

    private static List<double[]> Snapshot(Graph<double> graph, Net net)
        => [.. graph.Operations.Select(op => op.Output.Grad!.ToDoubleArray()), net.W1.Grad!.ToDoubleArray(), net.W2.Grad!.ToDoubleArray(), net.V.Grad!.ToDoubleArray()];
}
