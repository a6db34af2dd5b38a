using Backprop.Autograd;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Autograd;

/// <summary>Recording a graph once and replaying it on new leaf values.</summary>
public sealed class GraphTests
{
    private sealed class Network
    {
        public Tensor<double> X { get; } = Uniform(new Rng(41), -1, 1, [5, 3], name: "x");
        public Tensor<double> W { get; } = Uniform(new Rng(42), -1, 1, [3, 4], requiresGrad: true, name: "w");
        public Tensor<double> B { get; } = Uniform(new Rng(43), -1, 1, [4], requiresGrad: true, name: "b");
        public Tensor<double> Labels { get; } = Tensor<double>.FromArray([0, 3, 1, 1, 2], 5);

        public Tensor<double> Hidden { get; private set; } = null!;

        public Tensor<double> Loss()
        {
            Hidden = (X.MatMul(W) + B).Tanh();
            return (Hidden * 2.0).SoftmaxCrossEntropy(Labels);
        }

        public void ZeroGrad()
        {
            W.ZeroGrad();
            B.ZeroGrad();
        }

        public (double[] W, double[] B) Gradients() => (W.Grad!.ToDoubleArray(), B.Grad!.ToDoubleArray());

        public void ChangeLeaves(Rng rng)
        {
            foreach (var t in new[] { X, W, B })
            {
                foreach (ref var v in t.Data)
                {
                    v += rng.NextUniform(-0.5, 0.5);
                }
            }
            Labels[2] = 3;
        }
    }

    [Fact]
    public void A_replayed_graph_computes_what_a_fresh_build_computes()
    {
        var net = new Network();
        var loss = net.Loss();
        var graph = new Graph<double>(loss);
        var rng = new Rng(44);

        for (var replay = 0; replay < 3; replay++)
        {
            var before = loss.Item();
            net.ChangeLeaves(rng);

            graph.Forward();
            net.ZeroGrad();
            graph.Backward();
            var replayed = (Value: loss.Item(), Gradients: net.Gradients());

            net.ZeroGrad();
            var fresh = net.Loss();
            fresh.Backward();

            Assert.NotEqual(before, replayed.Value);
            Assert.Equal(fresh.Item(), replayed.Value);
            Assert.Equal(net.Gradients().W, replayed.Gradients.W);
            Assert.Equal(net.Gradients().B, replayed.Gradients.B);
        }
    }

    [Fact]
    public void Replays_reset_intermediate_gradients_and_accumulate_leaf_gradients()
    {
        var net = new Network();
        var graph = new Graph<double>(net.Loss());
        var hidden = net.Hidden;

        graph.Backward();
        var (w1, b1) = net.Gradients();
        var hidden1 = hidden.Grad!.ToDoubleArray();

        graph.Forward();
        graph.Backward();

        Assert.Equal(hidden1, hidden.Grad!.ToDoubleArray());
        // The second pass adds its terms onto the first result, so the sum is rounded differently.
        var (w2, b2) = net.Gradients();
        for (var i = 0; i < w1.Length; i++)
        {
            Assert.Equal(2 * w1[i], w2[i], 1e-14);
        }
        for (var i = 0; i < b1.Length; i++)
        {
            Assert.Equal(2 * b1[i], b2[i], 1e-14);
        }
        Assert.Equal(1.0, graph.Root.Grad!.Item());
    }

    [Fact]
    public void Operations_are_listed_once_each_with_inputs_before_outputs()
    {
        var net = new Network();
        var graph = new Graph<double>(net.Loss());

        Assert.Equal(["matmul", "add", "tanh", "scale", "softmax_cross_entropy"], graph.Operations.Select(op => op.Name));
        Assert.Same(graph.Root, graph.Operations[^1].Output);
    }

    [Fact]
    public void A_diamond_is_ordered_with_each_operation_once()
    {
        var x = Tensor<double>.Scalar(0.3, requiresGrad: true);
        var t = x.Tanh();
        var a = t * t;
        var b = t.Exp();
        var graph = new Graph<double>(a + b + t);

        Assert.Equal(5, graph.Operations.Count);
        Assert.Equal(graph.Operations.Count, graph.Operations.Distinct().Count());
        var position = graph.Operations.Select((op, i) => (op, i)).ToDictionary(p => p.op, p => p.i);
        foreach (var op in graph.Operations)
        {
            foreach (var input in op.Inputs.Where(i => i.Creator is not null))
            {
                Assert.True(position[input.Creator!] < position[op], $"{input.Creator!.Name} must come before {op.Name}");
            }
        }
    }

    [Fact]
    public void A_graph_of_a_leaf_has_no_operations()
    {
        var x = Tensor<double>.Scalar(2, requiresGrad: true);
        var graph = new Graph<double>(x);

        graph.Forward();
        graph.Backward();

        Assert.Empty(graph.Operations);
        Assert.Equal(1.0, x.Grad!.Item());
    }

    [Fact]
    public void Graph_backward_from_a_non_scalar_root_throws()
    {
        var x = Tensor<double>.FromArray([1, 2, 3], 3);
        x.RequiresGrad = true;
        var graph = new Graph<double>(x.Tanh());

        var ex = Assert.Throws<InvalidOperationException>(graph.Backward);

        Assert.Contains("[3]", ex.Message, StringComparison.Ordinal);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void A_non_scalar_graph_can_still_be_replayed_forward()
    {
        var x = Tensor<double>.FromArray([1, 2, 3], 3);
        x.RequiresGrad = true;
        var y = x.Square();
        var graph = new Graph<double>(y);

        x.Data[1] = 5;
        graph.Forward();

        Assert.Equal([1.0, 25, 9], y.ToDoubleArray());
    }

    [Fact]
    public void Graph_backward_of_constants_throws()
    {
        var graph = new Graph<double>(Tensor<double>.FromArray([1, 2], 2).Sum());

        Assert.Throws<InvalidOperationException>(graph.Backward);
    }
}
