using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Scalar;

namespace Backprop.Tests.Scalar;

/// <summary>Two views, one algorithm: the scalar and tensor engines give the same loss and gradients.</summary>
public sealed class EnginesAgreeTests
{
    public static TheoryData<int> Seeds => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    [Fact]
    public void At_the_lessons_starting_values_both_engines_give_the_same_seven_gradients()
        => AssertAgree(Lesson.StartingValues);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void At_random_points_both_engines_give_the_same_seven_gradients(int seed)
    {
        var random = new Random(seed);
        AssertAgree(Lesson.ParameterNames.ToDictionary(n => n, _ => (random.NextDouble() * 8) - 4));
    }

    private static void AssertAgree(IReadOnlyDictionary<string, double> values)
    {
        var scalar = LessonGraph.Build(values, Datasets.Dosage.Inputs.ToArray(), Datasets.Dosage.Targets.ToArray());
        scalar.Ssr.Backward();

        var network = Lesson.CreateNetwork<double>();
        Lesson.SetValues(network, values);
        var ssr = new SumSquaredResiduals().Compute(network.Forward(Datasets.Dosage.InputTensor<double>()), Datasets.Dosage.TargetTensor<double>());
        ssr.Backward();

        Assert.Equal(scalar.Ssr.Data, ssr.Item(), 1e-12);
        foreach (var name in Lesson.ParameterNames)
        {
            var fromScalar = scalar.Parameters[name].Grad;
            var fromTensor = network.Element(name).Gradient;
            Assert.True(Math.Abs(fromScalar - fromTensor) <= 1e-12 * Math.Max(1, Math.Abs(fromScalar)),
                $"dSSR/d{name}: scalar engine {fromScalar:R}, tensor engine {fromTensor:R}");
        }
    }
}
