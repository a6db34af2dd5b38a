using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

/// <summary>
/// <see cref="Optimizer{T}.LearningRate"/> can be changed between steps (a schedule, or a monitor's
/// own rule): every rule, on its whole-span path, its per-number path and its chunked two-thread
/// path, uses the rate as it is at that step.
/// </summary>
[Collection(nameof(ThreadCountTests))]
public sealed class LearningRateTests
{
    private static Parameter<double> Filled(string name, int length, double value, double gradient)
    {
        var p = new Parameter<double>(name, new Shape(length));
        for (var i = 0; i < length; i++)
        {
            p[i] = value;
            p.GradData[i] = gradient;
        }
        return p;
    }

    [Theory]
    [InlineData("gd", false)]
    [InlineData("gd", true)]
    [InlineData("momentum", false)]
    [InlineData("momentum", true)]
    [InlineData("adam", false)]
    [InlineData("adam", true)]
    public void A_changed_rate_is_the_one_the_next_step_uses(string rule, bool oneFixedNumber)
    {
        var p = Filled("p", 3, 1.0, 0.5);
        if (oneFixedNumber)
        {
            p.SetTrainable(2, false);
        }
        var optimizer = Optimizer<double>.Create(rule, [p], 0.1);
        optimizer.Step();
        var afterFirst = p[0];
        optimizer.LearningRate = 0.01;
        optimizer.Step();
        // The second step of each rule by hand, with g = 0.5 both times.
        var expected = rule switch
        {
            "gd" => afterFirst - (0.01 * 0.5),
            "momentum" => afterFirst - (0.01 * ((0.9 * 0.5) + 0.5)),
            _ => afterFirst - (0.01 * (((0.9 * 0.05) + 0.05) / (1 - (0.9 * 0.9))) / (Math.Sqrt(((0.999 * 0.00025) + 0.00025) / (1 - (0.999 * 0.999))) + 1e-8)),
        };
        Assert.Equal(0.01, optimizer.LearningRate);
        Assert.True(Math.Abs(p[0] - expected) <= 1e-15, $"{rule}: {p[0]:R} vs {expected:R}");
        Assert.Equal(p[0], p[1]);
        if (oneFixedNumber)
        {
            Assert.Equal(1.0, p[2]);
        }
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void The_chunked_step_on_two_threads_uses_the_changed_rate(string rule)
    {
        var saved = Parallelism.MaxDegreeOfParallelism;
        try
        {
            Parallelism.MaxDegreeOfParallelism = 2;
            var big = Filled("big", 1 << 18, 1.0, 0.5);
            var reference = Filled("reference", 5, 1.0, 0.5);
            var optimizer = Optimizer<double>.Create(rule, [big], 0.3);
            var check = Optimizer<double>.Create(rule, [reference], 0.3);
            optimizer.LearningRate = 0.02;
            check.LearningRate = 0.02;
            optimizer.Step();
            check.Step();
            Assert.Equal(reference[0], big[0]);
            Assert.Equal(reference[0], big[big.Length - 1]);
            Assert.NotEqual(1.0 - (0.3 * 0.5), big[0]);
        }
        finally
        {
            Parallelism.MaxDegreeOfParallelism = saved;
        }
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_rate_that_is_negative_or_not_finite_is_refused_and_the_old_one_kept(double rate)
    {
        var optimizer = new GradientDescent<double>([Filled("p", 1, 0, 0)], 0.1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.LearningRate = rate);
        Assert.Equal("LearningRate", e.ParamName);
        Assert.StartsWith("The learning rate must be a finite number ≥ 0.", e.Message, StringComparison.Ordinal);
        Assert.Equal(0.1, optimizer.LearningRate);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_rate_of_zero_where_a_schedule_ends_changes_nothing(string rule)
    {
        var p = Filled("p", 3, 1.0, 0.5);
        var optimizer = Optimizer<double>.Create(rule, [p], 0.1);
        optimizer.LearningRate = 0;
        optimizer.Step();
        Assert.False(optimizer.LastStepSkipped);
        Assert.Equal([1.0, 1.0, 1.0], p.Data.ToArray());
        Assert.Equal(0, optimizer.LastMaxStepSize);
    }
}
