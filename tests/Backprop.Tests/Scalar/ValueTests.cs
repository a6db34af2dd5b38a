using Backprop.Scalar;

namespace Backprop.Tests.Scalar;

public sealed class ValueTests
{
    private const double step = 1e-6;
    private const double relativeTolerance = 1e-7;

    // Each op with the textbook formula it must compute.
    private static readonly Dictionary<string, (Func<Value, Value> Op, Func<double, double> Formula)> unary = new()
    {
        ["neg"] = (x => -x, x => -x),
        ["Square"] = (x => x.Square(), x => x * x),
        ["Pow3"] = (x => x.Pow(3), x => x * x * x),
        ["Pow0.5"] = (x => x.Pow(0.5), Math.Sqrt),
        ["Pow-1.5"] = (x => x.Pow(-1.5), x => 1 / (x * Math.Sqrt(x))),
        ["Exp"] = (x => x.Exp(), Math.Exp),
        ["Log"] = (x => x.Log(), Math.Log),
        ["SoftPlus"] = (x => x.SoftPlus(), x => Math.Log(1 + Math.Exp(x))),
        ["Relu"] = (x => x.Relu(), x => x > 0 ? x : 0),
        ["Sigmoid"] = (x => x.Sigmoid(), x => 1 / (1 + Math.Exp(-x))),
        ["Tanh"] = (x => x.Tanh(), Math.Tanh),
        ["x+2"] = (x => x + 2.0, x => x + 2),
        ["2+x"] = (x => 2.0 + x, x => 2 + x),
        ["x-2"] = (x => x - 2.0, x => x - 2),
        ["2-x"] = (x => 2.0 - x, x => 2 - x),
        ["x*3"] = (x => x * 3.0, x => x * 3),
        ["3*x"] = (x => 3.0 * x, x => 3 * x),
    };

    private static readonly Dictionary<string, Func<Value, Value, Value>> binary = new()
    {
        ["a+b"] = (a, b) => a + b,
        ["a-b"] = (a, b) => a - b,
        ["a*b"] = (a, b) => a * b,
        ["Sum(a,b,a*b)"] = (a, b) => Value.Sum([a, b, a * b]),
        ["SoftPlus(a*b)+b"] = (a, b) => (a * b).SoftPlus() + b,
        ["tanh(a)*exp(b)/a"] = (a, b) => a.Tanh() * b.Exp() * a.Pow(-1),
    };

    private static readonly double[] points = [-2.5, -0.7, 0.3, 1.9];

    public static TheoryData<string, double> UnaryCases()
    {
        var data = new TheoryData<string, double>();
        foreach (var op in unary.Keys)
        {
            foreach (var x in points)
            {
                var needsPositive = op is "Log" or "Pow0.5" or "Pow-1.5";
                if (x > 0 || !needsPositive)
                {
                    data.Add(op, x);
                }
            }
        }

        return data;
    }

    public static TheoryData<string, double, double> BinaryCases()
    {
        var data = new TheoryData<string, double, double>();
        foreach (var op in binary.Keys)
        {
            data.Add(op, 0.3, -1.7);
            data.Add(op, 1.9, 0.6);
            data.Add(op, -2.5, 2.2);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Each_op_computes_its_formula(string op, double x)
    {
        var (f, formula) = unary[op];

        var expected = formula(x);
        Assert.Equal(expected, f(new Value(x)).Data, 1e-14 * Math.Max(1, Math.Abs(expected)));
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Each_op_gradient_matches_central_finite_differences(string op, double x)
    {
        var f = unary[op].Op;
        var leaf = new Value(x);
        f(leaf).Backward();

        AssertCloseToFiniteDifference(xi => f(new Value(xi)).Data, x, leaf.Grad);
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Two_input_gradients_match_central_finite_differences(string op, double a, double b)
    {
        var f = binary[op];
        var (va, vb) = (new Value(a), new Value(b));
        f(va, vb).Backward();

        AssertCloseToFiniteDifference(ai => f(new Value(ai), new Value(b)).Data, a, va.Grad);
        AssertCloseToFiniteDifference(bi => f(new Value(a), new Value(bi)).Data, b, vb.Grad);
    }

    [Fact]
    public void A_value_used_twice_receives_the_gradient_of_both_paths()
    {
        var a = new Value(3, "a");

        (a * a).Backward();
        Assert.Equal(6, a.Grad); // d/da a² = 2a

        a.ZeroGrad();
        ((a * a) + a.Exp()).Backward();
        Assert.Equal(6 + Math.Exp(3), a.Grad, 1e-12);
    }

    [Fact]
    public void A_shared_intermediate_node_is_visited_once_with_its_complete_gradient()
    {
        var a = new Value(0.8, "a");
        var h = a.Tanh("h");
        var y = (h * h) + (h * 3.0); // dy/dh = 2h + 3

        y.Backward();

        var t = Math.Tanh(0.8);
        Assert.Equal((2 * t) + 3, h.Grad, 1e-14);
        Assert.Equal(((2 * t) + 3) * (1 - (t * t)), a.Grad, 1e-14);
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_zeroed()
    {
        var a = new Value(2, "a");
        var b = new Value(3, "b");
        var c = a * b;
        var d = c.Exp();
        d.Backward();
        var once = (a: a.Grad, b: b.Grad, c: c.Grad, d: d.Grad);

        d.Backward();

        // Exactly twice, at every node: a second call must not push the first call's interior gradients down again.
        Assert.Equal((2 * once.a, 2 * once.b, 2 * once.c, 2 * once.d), (a.Grad, b.Grad, c.Grad, d.Grad));

        Value.ZeroGrad(d.TopologicalOrder());
        Assert.All(d.TopologicalOrder(), node => Assert.Equal(0, node.Grad));

        d.Backward();
        Assert.Equal(once, (a.Grad, b.Grad, c.Grad, d.Grad));
        Assert.Equal(Math.Exp(6) * 3, a.Grad, 1e-9);
    }

    [Fact]
    public void Backward_from_two_losses_adds_their_gradients()
    {
        var w = new Value(1.5, "w");
        var shared = w.Sigmoid();
        var loss1 = shared * 2.0;
        var loss2 = shared.Square();

        loss1.Backward();
        loss2.Backward();

        var s = 1 / (1 + Math.Exp(-1.5));
        Assert.Equal((2 + (2 * s)) * s * (1 - s), w.Grad, 1e-14);
    }

    [Fact]
    public void A_ten_thousand_op_chain_backpropagates_without_overflowing_the_stack()
    {
        const int length = 10_000;
        var x = new Value(0.5, "x");
        Value? y = null;

        // A small stack, so a recursive topological sort or backward pass would overflow.
        var thread = new Thread(
            () =>
            {
                var v = x;
                for (var k = 0; k < length; k++)
                {
                    v = (v * 1.0001) + x; // v_k = 1.0001 v_(k-1) + x
                }

                v.Backward();
                y = v;
            },
            maxStackSize: 256 * 1024);
        thread.Start();
        thread.Join();

        Assert.NotNull(y);
        Assert.Equal((3 * length) + 1, y.TopologicalOrder().Count); // x, then a constant, a product and a sum per step
        var expected = 0.0; // dv_k/dx = 1.0001 dv_(k-1)/dx + 1, dv_0/dx = 1
        for (var k = 0; k <= length; k++)
        {
            expected = (expected * 1.0001) + 1;
        }

        Assert.Equal(expected, x.Grad, 1e-9 * expected);
    }

    [Fact]
    public void SoftPlus_at_plus_and_minus_400_stays_finite_and_keeps_its_gradient()
    {
        var high = new Value(400);
        var low = new Value(-400);
        var softHigh = high.SoftPlus();
        var softLow = low.SoftPlus();
        softHigh.Backward();
        softLow.Backward();

        Assert.Equal(400, softHigh.Data);
        Assert.Equal(1, high.Grad);
        Assert.True(softLow.Data > 0);
        Assert.Equal(Math.Exp(-400), softLow.Data, 1e-14 * Math.Exp(-400));
        Assert.Equal(Math.Exp(-400), low.Grad, 1e-14 * Math.Exp(-400));
    }

    [Theory]
    [InlineData(-20)]
    [InlineData(-40)]
    [InlineData(-100)]
    public void SoftPlus_of_a_negative_number_is_accurate_where_log_of_1_plus_e_to_the_x_rounds(double x)
    {
        var t = Math.Exp(x);
        var log1p = t - (t * t / 2) + (t * t * t / 3); // series of log(1 + t), exact to double precision here

        Assert.Equal(log1p, new Value(x).SoftPlus().Data, 1e-15 * log1p);
    }

    [Fact]
    public void Sigmoid_at_plus_and_minus_400_stays_finite_and_keeps_its_gradient()
    {
        var high = new Value(400);
        var low = new Value(-400);
        var sigmoidHigh = high.Sigmoid();
        var sigmoidLow = low.Sigmoid();
        sigmoidHigh.Backward();
        sigmoidLow.Backward();

        Assert.Equal(1, sigmoidHigh.Data);
        Assert.Equal(Math.Exp(-400), sigmoidLow.Data, 1e-14 * Math.Exp(-400));
        Assert.Equal(Math.Exp(-400), high.Grad, 1e-14 * Math.Exp(-400)); // σ(1 - σ) ≈ e^-400, not 1·0
        Assert.Equal(Math.Exp(-400), low.Grad, 1e-14 * Math.Exp(-400));
    }

    [Theory]
    [InlineData(30)]
    [InlineData(-30)]
    public void Tanh_gradient_stays_accurate_where_tanh_rounds_to_one(double x)
    {
        var leaf = new Value(x);
        leaf.Tanh().Backward();

        var expected = 4 * Math.Exp(-60); // 1 - tanh² = 4 e^-2|x| / (1 + e^-2|x|)²
        Assert.Equal(expected, leaf.Grad, 1e-14 * expected);
    }

    [Fact]
    public void Each_node_records_its_op_inputs_and_local_derivatives()
    {
        var a = new Value(2, "a");
        var b = new Value(-3, "b");

        var product = a * b;
        var y = (a + b).SoftPlus("y1,1");

        Assert.Equal("*", product.Op);
        Assert.Equal([a, b], product.Inputs);
        Assert.Equal([-3.0, 2.0], product.LocalGradients); // d(ab)/da = b, d(ab)/db = a
        Assert.Equal("(a*b)", product.Name);
        Assert.Equal("y1,1", y.Name);
        Assert.Equal("SoftPlus", y.Op);
        Assert.Equal("(a+b)", Assert.Single(y.Inputs).Name);
        Assert.Equal(1 / (1 + Math.E), Assert.Single(y.LocalGradients), 1e-15); // σ(-1)
        Assert.Equal("", a.Op);
        Assert.Empty(a.Inputs);
    }

    [Fact]
    public void Default_names_stay_short_in_a_long_chain()
    {
        var v = new Value(1, "x");
        for (var k = 0; k < 100; k++)
        {
            v = v.Tanh() + v;
        }

        Assert.True(v.Name.Length < 40, v.Name);
    }

    [Fact]
    public void Topological_order_lists_each_node_once_with_inputs_before_outputs()
    {
        var a = new Value(1, "a");
        var b = new Value(2, "b");
        var c = a * b;
        var d = (c + a).Exp() * c;

        var order = d.TopologicalOrder().ToList();

        Assert.Equal(order.Count, order.Distinct().Count());
        Assert.Equal(6, order.Count); // a, b, c, c+a, exp(c+a), d
        Assert.Same(d, order[^1]);
        for (var k = 0; k < order.Count; k++)
        {
            Assert.All(order[k].Inputs, input => Assert.True(order.IndexOf(input) < k));
        }
    }

    [Fact]
    public void ToString_shows_name_value_and_gradient()
    {
        var w1 = new Value(2.74, "w1") { Grad = -0.57 };

        Assert.Equal("w1 = 2.74 (grad -0.57)", w1.ToString());
    }

    // Central difference divided by the step actually taken, (x + h) - (x - h), so rounding of x ± h cancels.
    private static void AssertCloseToFiniteDifference(Func<double, double> f, double x, double analytic)
    {
        var (up, down) = (x + step, x - step);
        var numeric = (f(up) - f(down)) / (up - down);

        Assert.True(
            Math.Abs(analytic - numeric) <= relativeTolerance * Math.Abs(numeric),
            $"at {x}: backprop {analytic}, finite difference {numeric}");
    }
}
