using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

/// <summary>
/// Weight decay: L2 (g + λw) for gradient descent and momentum, decoupled (AdamW, PyTorch's formula)
/// for Adam; weights (two or more dimensions) only, unless every parameter is asked for.
/// </summary>
public sealed class WeightDecayTests
{
    private const double Lr = 0.1, Lambda = 0.5;

    // A 2×2 weight of 2.0 with gradient 0.25, a bias of 2.0 with gradient 0.25.
    private static (Parameter<double> Weight, Parameter<double> Bias) Layer(bool oneFixedNumber = false)
    {
        var w = new Parameter<double>("layer0.weight", new Shape(2, 2));
        var b = new Parameter<double>("layer0.bias", new Shape(2));
        foreach (var p in new[] { w, b })
        {
            for (var i = 0; i < p.Length; i++)
            {
                p[i] = 2.0;
                p.GradData[i] = 0.25;
            }
        }
        if (oneFixedNumber)
        {
            w.SetTrainable(3, false);
        }
        return (w, b);
    }

    [Theory]
    [InlineData("gd", false)]
    [InlineData("gd", true)]
    [InlineData("momentum", false)]
    [InlineData("momentum", true)]
    public void Gradient_descent_and_momentum_add_lambda_w_to_the_weights_gradient(string rule, bool oneFixedNumber)
    {
        var (w, b) = Layer(oneFixedNumber);
        var optimizer = Optimizer<double>.Create(rule, [w, b], Lr);
        optimizer.WeightDecay = Lambda;
        optimizer.Step();
        // First step of both rules: w − lr·(g + λw) (momentum's velocity starts at the gradient).
        Assert.Equal(2.0 - (Lr * (0.25 + (Lambda * 2.0))), w[0]);
        Assert.Equal(2.0 - (Lr * 0.25), b[0]);
        Assert.Equal(oneFixedNumber ? 2.0 : w[0], w[3]);
        Assert.True(optimizer.IsDecayed(0));
        Assert.False(optimizer.IsDecayed(1));
    }

    [Fact]
    public void Momentum_carries_the_decayed_gradient_in_its_velocity()
    {
        var (w, _) = Layer();
        var optimizer = new Momentum<double>([w], Lr, 0.9) { WeightDecay = Lambda };
        optimizer.Step();
        var afterFirst = w[0];
        w.GradData.AsSpan().Fill(0.25);
        optimizer.Step();
        var v1 = 0.25 + (Lambda * 2.0);
        var v2 = (0.9 * v1) + 0.25 + (Lambda * afterFirst);
        Assert.Equal(afterFirst - (Lr * v2), w[0], 15);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_decays_the_weights_apart_from_the_gradient_as_AdamW(bool oneFixedNumber)
    {
        var (w, b) = Layer(oneFixedNumber);
        var optimizer = new Adam<double>([w, b], Lr) { WeightDecay = Lambda };
        optimizer.Step();
        // PyTorch's AdamW, step 1: m̂ = g, v̂ = g², so w ← w·(1 − lr·λ) − lr·g/(|g| + ε).
        var adamStep = Lr * 0.25 / (0.25 + 1e-8);
        Assert.Equal((2.0 * (1 - (Lr * Lambda))) - adamStep, w[0], 15);
        Assert.Equal(2.0 - adamStep, b[0], 15);
        Assert.Equal(oneFixedNumber ? 2.0 : w[0], w[3]);
        // The gradients are not changed: the decay is not added to them.
        Assert.Equal(0.25, w.Grad![0]);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void Every_parameter_is_decayed_when_asked(string rule)
    {
        var (w, b) = Layer();
        var optimizer = Optimizer<double>.Create(rule, [w, b], Lr);
        optimizer.WeightDecay = Lambda;
        optimizer.DecayAllParameters = true;
        optimizer.Step();
        Assert.Equal(w[0], b[0]);
        Assert.True(optimizer.IsDecayed(1));
    }

    [Fact]
    public void Without_decay_nothing_changes()
    {
        var (w, b) = Layer();
        var (w2, b2) = Layer();
        new Adam<double>([w, b], Lr).Step();
        new Adam<double>([w2, b2], Lr) { WeightDecay = 0 }.Step();
        Assert.Equal(w.Data.ToArray(), w2.Data.ToArray());
        Assert.Equal(2.0 - (Lr * 0.25 / (0.25 + 1e-8)), w[0], 15);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_decay_that_is_negative_or_not_finite_is_refused(double lambda)
    {
        var optimizer = new GradientDescent<double>([Layer().Weight], Lr);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.WeightDecay = lambda);
        Assert.StartsWith("The weight decay must be a finite number ≥ 0.", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, optimizer.WeightDecay);
    }
}
