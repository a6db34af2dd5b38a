using Backprop.Playground;

namespace Backprop.Tests.Playground;

public sealed class PlaygroundDataTests
{
    [Theory]
    [InlineData("circle")]
    [InlineData("xor")]
    [InlineData("gauss")]
    [InlineData("spiral")]
    public void Each_2d_set_has_two_balanced_classes_and_the_same_points_for_the_same_seed(string name)
    {
        var a = PlaygroundData.Generate(name, 200, 0.1, 7);
        var b = PlaygroundData.Generate(name, 200, 0.1, 7);
        var c = PlaygroundData.Generate(name, 200, 0.1, 8);

        Assert.Equal(200, a.Count);
        Assert.Equal(["negative", "positive"], a.ClassNames);
        Assert.Equal(a.Inputs.ToArray(), b.Inputs.ToArray());
        Assert.NotEqual(a.Inputs.ToArray(), c.Inputs.ToArray());
        var positives = a.Targets.ToArray().Count(t => t == 1);
        Assert.InRange(positives, 60, 140);
    }

    [Fact]
    public void Without_noise_each_set_follows_tensorflow_playgrounds_rule()
    {
        var xor = PlaygroundData.Generate("xor", 300, 0, 1);
        var circle = PlaygroundData.Generate("circle", 300, 0, 1);
        var spiral = PlaygroundData.Generate("spiral", 300, 0, 1);
        var gauss = PlaygroundData.Generate("gauss", 300, 0, 1);

        for (var i = 0; i < 300; i++)
        {
            var (x, y) = (xor.Input(i, 0), xor.Input(i, 1));
            Assert.True(Math.Abs(x) >= 0.3 && Math.Abs(y) >= 0.3 && Math.Abs(x) <= 5.3, $"{x}, {y}");
            Assert.Equal(x * y >= 0 ? 1 : 0, xor.Targets[i]);
            var r = Math.Sqrt((circle.Input(i, 0) * circle.Input(i, 0)) + (circle.Input(i, 1) * circle.Input(i, 1)));
            Assert.Equal(r < 2.5 ? 1 : 0, circle.Targets[i]);
            Assert.True(r <= 2.5 || r >= 3.5, $"r = {r}");
            var rs = Math.Sqrt((spiral.Input(i, 0) * spiral.Input(i, 0)) + (spiral.Input(i, 1) * spiral.Input(i, 1)));
            Assert.Equal(5.0 * (i % 150) / 150, rs, 9);
            Assert.Equal(i < 150 ? 1 : 0, spiral.Targets[i]);
            Assert.Equal(i < 150 ? 1 : 0, gauss.Targets[i]);
        }
        Assert.Equal(2, gauss.Inputs.ToArray().Take(300).Where((_, k) => k % 2 == 0).Average(), 0.5);
    }

    [Theory]
    [InlineData("moons", 100, 0, "Unknown data 'moons'; choose one of circle, xor, gauss, spiral, sine, bump, steps, or upload a CSV file.")]
    [InlineData("xor", 3, 0, "The number of points must be from 4 to 2000.")]
    [InlineData("xor", 100, 0.6, "The noise must be from 0 to 0.5.")]
    public void Unknown_sets_and_out_of_range_sizes_are_refused(string name, int samples, double noise, string message)
    {
        Assert.Equal(message, Assert.Throws<BackpropException>(() => PlaygroundData.Generate(name, samples, noise, 1)).Message);
    }

    [Fact]
    public void The_1d_curves_are_regression_data()
    {
        var sine = PlaygroundData.Generate("sine", 50, 0, 1);

        Assert.False(sine.IsClassification);
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(Math.Sin(sine.Input(i, 0)), sine.Targets[i], 12));
    }
}
