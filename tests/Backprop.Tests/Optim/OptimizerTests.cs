using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

public sealed class OptimizerTests
{
    // f(p) = Σ aᵢ (pᵢ − cᵢ)² over two parameters (a vector and a matrix), so ∂f/∂pᵢ = 2aᵢ(pᵢ − cᵢ).
    private static readonly double[] a = [1.0, 3.0, 0.5, 2.0, 0.25, 4.0, 1.5];
    private static readonly double[] c = [1.0, -2.0, 0.5, 3.0, -1.0, 0.0, 2.5];
    private static readonly double[] start = [0.0, 1.0, -1.0, 2.0, 4.0, -3.0, 0.7];

    private sealed class Quadratic
    {
        public Parameter<double> Vector { get; } = new("vector", new Shape(3));

        public Parameter<double> Matrix { get; } = new("matrix", new Shape(2, 2));

        public Parameter<double>[] Parameters => [Vector, Matrix];

        public Quadratic(double[]? values = null)
        {
            for (var i = 0; i < 7; i++)
            {
                this[i] = (values ?? start)[i];
            }
        }

        public double this[int i]
        {
            get => i < 3 ? Vector[i] : Matrix[i - 3];
            set
            {
                if (i < 3)
                {
                    Vector[i] = value;
                }
                else
                {
                    Matrix[i - 3] = value;
                }
            }
        }

        public double[] Values => [.. Enumerable.Range(0, 7).Select(i => this[i])];

        public Tensor<double> Loss()
        {
            var av = Tensor<double>.FromArray(a[..3], 3);
            var cv = Tensor<double>.FromArray(c[..3], 3);
            var am = Tensor<double>.FromArray(a[3..], 2, 2);
            var cm = Tensor<double>.FromArray(c[3..], 2, 2);
            return (av * (Vector - cv).Square()).Sum() + (am * (Matrix - cm).Square()).Sum();
        }

        // One step: gradients of the current values, then the optimizer's update of all of them.
        public void Step(Optimizer<double> optimizer)
        {
            optimizer.ZeroGrad();
            Loss().Backward();
            optimizer.Step();
        }
    }

    private static double Gradient(double[] p, int i) => 2 * a[i] * (p[i] - c[i]);

    private static void AssertClose(double[] expected, double[] actual, string when)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-13 * Math.Max(1, Math.Abs(expected[i])),
                $"{when}, number {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    private static Optimizer<double> Create(string name, IEnumerable<Parameter<double>> parameters, double learningRate) => name switch
    {
        "gd" => new GradientDescent<double>(parameters, learningRate),
        "momentum" => new Momentum<double>(parameters, learningRate, 0.9),
        _ => new Adam<double>(parameters, learningRate),
    };

    [Fact]
    public void Gradient_descent_subtracts_the_learning_rate_times_the_derivative()
    {
        const double lr = 0.1;
        var q = new Quadratic();
        var optimizer = new GradientDescent<double>(q.Parameters, lr);
        var p = (double[])start.Clone();

        for (var step = 1; step <= 5; step++)
        {
            q.Step(optimizer);

            var g = Enumerable.Range(0, 7).Select(i => Gradient(p, i)).ToArray();
            p = [.. Enumerable.Range(0, 7).Select(i => p[i] - (lr * g[i]))];
            AssertClose(p, q.Values, $"step {step}");
            Assert.Equal(g.Max(Math.Abs) * lr, optimizer.LastMaxStepSize, 1e-13);
        }
        Assert.Equal(5, optimizer.StepCount);
    }

    [Fact]
    public void Momentum_accumulates_a_velocity()
    {
        const double lr = 0.05, mu = 0.9;
        var q = new Quadratic();
        var optimizer = new Momentum<double>(q.Parameters, lr, mu);
        var p = (double[])start.Clone();
        var v = new double[7];

        for (var step = 1; step <= 5; step++)
        {
            q.Step(optimizer);

            var g = Enumerable.Range(0, 7).Select(i => Gradient(p, i)).ToArray();
            for (var i = 0; i < 7; i++)
            {
                v[i] = (mu * v[i]) + g[i];
                p[i] -= lr * v[i];
            }
            AssertClose(p, q.Values, $"step {step}");
        }
        Assert.Equal(mu, optimizer.MomentumFactor);
    }

    [Fact]
    public void Adam_follows_the_bias_corrected_moments()
    {
        const double lr = 0.1, beta1 = 0.8, beta2 = 0.95, eps = 1e-6;
        var q = new Quadratic();
        var optimizer = new Adam<double>(q.Parameters, lr, beta1, beta2, eps);
        var p = (double[])start.Clone();
        var m = new double[7];
        var v = new double[7];

        for (var t = 1; t <= 4; t++)
        {
            q.Step(optimizer);

            var g = Enumerable.Range(0, 7).Select(i => Gradient(p, i)).ToArray();
            for (var i = 0; i < 7; i++)
            {
                m[i] = (beta1 * m[i]) + ((1 - beta1) * g[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * g[i] * g[i]);
                var mHat = m[i] / (1 - Math.Pow(beta1, t));
                var vHat = v[i] / (1 - Math.Pow(beta2, t));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
            AssertClose(p, q.Values, $"step {t}");
        }
    }

    [Fact]
    public void Adams_first_step_moves_every_number_by_the_learning_rate()
    {
        // With bias correction, m̂ = g and v̂ = g² at t = 1, so the first step is lr·sign(g) (up to ε).
        var q = new Quadratic();
        var optimizer = new Adam<double>(q.Parameters, 0.01);

        q.Step(optimizer);

        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(start[i] - (0.01 * Math.Sign(Gradient(start, i))), q[i], 1e-9);
        }
        Assert.Equal(0.01, optimizer.LastMaxStepSize, 1e-9);
    }

    [Fact]
    public void All_numbers_move_with_the_gradients_of_the_same_step()
    {
        // f(p, q) = (p·q − 1)²: each gradient depends on the other number, so an update of p made
        // before q's gradient was used would show in q.
        var p = new Parameter<double>("p", new Shape(1));
        var q = new Parameter<double>("q", new Shape(1));
        p[0] = 2;
        q[0] = 3;
        var optimizer = new GradientDescent<double>([p, q], 0.01);
        double pv = 2, qv = 3;

        for (var step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            ((p * q) - Tensor<double>.Scalar(1)).Square().Sum().Backward();
            optimizer.Step();

            var r = (pv * qv) - 1;
            (pv, qv) = (pv - (0.01 * 2 * r * qv), qv - (0.01 * 2 * r * pv));
            Assert.Equal(pv, p[0], 1e-14);
            Assert.Equal(qv, q[0], 1e-14);
        }
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void Frozen_numbers_are_not_changed(string name)
    {
        var q = new Quadratic();
        q.Vector.SetTrainable(1, false);
        q.Matrix.SetTrainable(false);
        var optimizer = Create(name, q.Parameters, 0.05);

        for (var step = 0; step < 4; step++)
        {
            q.Step(optimizer);
        }

        var values = q.Values;
        for (var i = 0; i < 7; i++)
        {
            if (i is 0 or 2)
            {
                Assert.NotEqual(start[i], values[i]);
            }
            else
            {
                Assert.Equal(start[i], values[i]);
            }
        }
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void Numbers_frozen_by_TrainOnly_are_not_changed(string name)
    {
        var network = Lesson.CreateNetwork<double>();
        network.TrainOnly(["w3", "w4", "b3"]);
        var optimizer = Create(name, network.Parameters(), 0.1);
        var x = Tensor<double>.FromRows([[0.0], [0.5], [1.0]]);
        var y = Tensor<double>.FromRows([[0.0], [1.0], [0.0]]);

        for (var step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            new SumSquaredResiduals().Compute(network.Forward(x), y).Backward();
            optimizer.Step();
        }

        foreach (var name2 in new[] { "w1", "b1", "w2", "b2" })
        {
            Assert.Equal(Lesson.StartingValues[name2], network.Element(name2).Value);
        }
        foreach (var name2 in new[] { "w3", "w4", "b3" })
        {
            Assert.NotEqual(Lesson.StartingValues[name2], network.Element(name2).Value);
        }
    }

    [Theory]
    [InlineData("gd", false)]
    [InlineData("momentum", false)]
    [InlineData("adam", false)]
    [InlineData("gd", true)]
    [InlineData("momentum", true)]
    [InlineData("adam", true)]
    public void LastMaxStepSize_is_the_largest_change_of_the_step(string name, bool allBelowTheMinimum)
    {
        // Below the minimum every gradient is negative and every number grows: the size is still positive.
        var q = new Quadratic(allBelowTheMinimum ? [.. c.Select((ci, i) => ci - (0.5 * (i + 1)))] : start);
        q.Matrix.SetTrainable(2, false); // the frozen number has the largest gradient; it must not count
        var optimizer = Create(name, q.Parameters, 0.02);

        for (var step = 1; step <= 4; step++)
        {
            var before = q.Values;
            q.Step(optimizer);
            var after = q.Values;

            var largest = before.Zip(after, (b, x) => Math.Abs(b - x)).Max();
            Assert.True(largest > 0);
            Assert.Equal(largest, optimizer.LastMaxStepSize, 1e-14);
        }
    }

    [Fact]
    public void A_parameter_without_a_gradient_is_left_alone()
    {
        var used = new Parameter<double>("used", new Shape(1));
        var unused = new Parameter<double>("unused", new Shape(1));
        unused[0] = 5;
        var optimizer = new Momentum<double>([used, unused], 0.1);

        (used - Tensor<double>.Scalar(1)).Square().Sum().Backward();
        optimizer.Step();

        Assert.Null(unused.Grad);
        Assert.Equal(5, unused[0]);
        Assert.Equal(0.2, used[0], 1e-15);
    }

    [Theory]
    [InlineData("gd", 0.0)]
    [InlineData("gd", -0.1)]
    [InlineData("gd", double.NaN)]
    [InlineData("gd", double.PositiveInfinity)]
    [InlineData("momentum", 0.0)]
    [InlineData("momentum", double.NegativeInfinity)]
    [InlineData("momentum", double.NaN)]
    [InlineData("adam", 0.0)]
    [InlineData("adam", -1.0)]
    [InlineData("adam", double.PositiveInfinity)]
    [InlineData("adam", double.NaN)]
    public void The_learning_rate_must_be_positive_and_finite(string name, double learningRate)
    {
        var p = new Parameter<double>("p", new Shape(1));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer<double>.Create(name, [p], learningRate));

        Assert.Equal("learningRate", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(name, [p], learningRate));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Momentum_and_Adam_check_their_factors(double factor)
    {
        var p = new Parameter<double>("p", new Shape(1));

        Assert.Throws<ArgumentOutOfRangeException>(() => new Momentum<double>([p], 0.1, factor));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>([p], 0.1, beta1: factor));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>([p], 0.1, beta2: factor));
    }

    [Fact]
    public void Adam_needs_a_positive_epsilon()
    {
        var p = new Parameter<double>("p", new Shape(1));

        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<double>([p], 0.1, epsilon: 0));
    }

    [Theory]
    [InlineData("gd", typeof(GradientDescent<double>))]
    [InlineData("SGD", typeof(GradientDescent<double>))]
    [InlineData("gradient-descent", typeof(GradientDescent<double>))]
    [InlineData(" Momentum ", typeof(Momentum<double>))]
    [InlineData("adam", typeof(Adam<double>))]
    public void Optimizers_are_created_by_name(string name, Type type)
    {
        var p = new Parameter<double>("p", new Shape(1));

        var optimizer = Optimizer<double>.Create(name, [p], 0.25);

        Assert.IsType(type, optimizer);
        Assert.Equal(0.25, optimizer.LearningRate);
        Assert.Same(p, Assert.Single(optimizer.Parameters));
    }

    [Fact]
    public void An_unknown_optimizer_name_lists_the_choices()
    {
        var p = new Parameter<double>("p", new Shape(1));

        var e = Assert.Throws<BackpropException>(() => Optimizer<double>.Create("rmsprop", [p], 0.1));

        Assert.Equal("Unknown optimizer 'rmsprop'; choose one of gd, momentum, adam.", e.Message);
    }
}
