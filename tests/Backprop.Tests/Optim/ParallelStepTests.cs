using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

/// <summary>
/// A step over many numbers is shared out between threads in chunks: the same bits and the same
/// largest step as on one thread, for every rule, and a NaN gradient still changes nothing.
/// </summary>
[Collection(nameof(ThreadCountTests))]
public sealed class ParallelStepTests
{
    // 90,000 + 60,000 + 7 numbers: over the threshold, several chunks each, a ragged last chunk.
    private static Parameter<float>[] Parameters(int seed)
    {
        var rng = new Rng((ulong)seed);
        Parameter<float>[] parameters = [new("w", new Shape(300, 300)), new("v", new Shape(200, 300)), new("b", new Shape(7))];
        foreach (var p in parameters)
        {
            for (var i = 0; i < p.Length; i++)
            {
                p[i] = (float)rng.NextUniform(-1, 1);
                p.GradData[i] = (float)rng.NextUniform(-2, 2);
            }
        }
        return parameters;
    }

    /// <summary>Runs <paramref name="run"/> at <paramref name="threads"/> threads, then restores the count (tests in <see cref="ThreadCountTests"/> only).</summary>
    internal static TResult WithThreads<TResult>(int threads, Func<TResult> run)
    {
        var saved = Parallelism.MaxDegreeOfParallelism;
        try
        {
            Parallelism.MaxDegreeOfParallelism = threads;
            return run();
        }
        finally
        {
            Parallelism.MaxDegreeOfParallelism = saved;
        }
    }

    private static (float[][] Values, double[] Largest) Train(string rule, int threads, Action<Parameter<float>[]>? spoil = null) => WithThreads(threads, () =>
    {
        var parameters = Parameters(5);
        var optimizer = Optimizer<float>.Create(rule, parameters, 0.01);
        var largest = new List<double>();
        for (var step = 0; step < 3; step++)
        {
            if (step == 2)
            {
                spoil?.Invoke(parameters);
            }
            optimizer.Step();
            largest.Add(optimizer.LastStepSkipped ? double.NaN : optimizer.LastMaxStepSize);
            foreach (var p in parameters)
            {
                // New gradients for the next step, from the values (so every step differs).
                for (var i = 0; i < p.Length; i++)
                {
                    p.GradData[i] = (p[i] * 1.5f) - 0.25f;
                }
            }
        }
        return ((float[][])[.. parameters.Select(p => p.Data.ToArray())], (double[])[.. largest]);
    });

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void Two_threads_give_the_bits_of_one(string rule)
    {
        var one = Train(rule, 1);
        var two = Train(rule, 2);

        Assert.Equal(one.Largest, two.Largest);
        for (var p = 0; p < one.Values.Length; p++)
        {
            Assert.True(one.Values[p].AsSpan().SequenceEqual(two.Values[p]), $"{rule}: parameter {p} differs");
        }
        Assert.True(one.Largest.All(double.IsFinite) && one.Largest.All(l => l > 0));
    }

    [Fact]
    public void Zeroing_the_gradients_on_two_threads_zeroes_every_one()
    {
        var parameters = WithThreads(2, () =>
        {
            var parameters = Parameters(9);
            new GradientDescent<float>(parameters, 0.1).ZeroGrad();
            return parameters;
        });

        Assert.All(parameters, p => Assert.True(p.Grad!.Data.IndexOfAnyExcept(0f) < 0, $"{p.Name} still has a gradient"));
        Assert.NotEqual(0f, parameters[0][0]);
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_NaN_gradient_in_a_late_chunk_changes_nothing_on_two_threads(string rule)
    {
        float[][]? before = null;
        var run = Train(rule, 2, parameters =>
        {
            before = [.. parameters.Select(p => p.Data.ToArray())];
            parameters[1].GradData[59_999] = float.NaN;
        });

        Assert.True(double.IsNaN(run.Largest[2]), "the third step should have been skipped");
        for (var p = 0; p < run.Values.Length; p++)
        {
            Assert.True(before![p].AsSpan().SequenceEqual(run.Values[p]), $"{rule}: parameter {p} changed");
        }
    }

    [Theory]
    [InlineData("gd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_step_in_chunks_that_would_overflow_one_number_changes_none(string rule) => WithThreads(2, () =>
    {
        var p = new Parameter<double>("big", new Shape(300_000));
        p.Data.Fill(0.5);
        p[250_000] = 1.5e308;
        var optimizer = Optimizer<double>.Create(rule, [p], 1e308);
        var gradient = new double[p.Length];
        gradient.AsSpan().Fill(1e-300);
        gradient[250_000] = -1;
        (p * Tensor<double>.FromArray(gradient, p.Length)).Sum().Backward();

        optimizer.Step();

        Assert.True(optimizer.LastStepSkipped);
        Assert.Equal((0, 250_000, (string?)null, false), optimizer.LastOverflow);
        Assert.Equal(1.5e308, p[250_000]);
        Assert.All(p.Data[..250_000].ToArray(), v => Assert.Equal(0.5, v));
        return 0;
    });
}

/// <summary>Tests that set <see cref="Parallelism.MaxDegreeOfParallelism"/> run alone, so no other test changes it under them.</summary>
[CollectionDefinition(nameof(ThreadCountTests), DisableParallelization = true)]
public sealed class ThreadCountTests;
