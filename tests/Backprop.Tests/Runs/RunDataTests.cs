using Backprop.Data;
using Backprop.Runs;

namespace Backprop.Tests.Runs;

/// <summary>A run's held-out rows for any task: a seeded validation split, test rows, standardisation fitted on the training rows only.</summary>
public sealed class RunDataTests
{
    private static Dataset Line(int rows) => new("line", [.. Enumerable.Range(0, rows).Select(i => (double)i)], [.. Enumerable.Range(0, rows).Select(i => (2.0 * i) + 1)], ["x"], ["y"]);

    [Fact]
    public void A_regressions_validation_rows_are_a_seeded_fraction_held_out_of_training()
    {
        var data = RunData.Prepare(Line(40), validationFraction: 0.25, seed: 7);
        var again = RunData.Prepare(Line(40), validationFraction: 0.25, seed: 7);
        var other = RunData.Prepare(Line(40), validationFraction: 0.25, seed: 8);

        Assert.Equal(30, data.Train.Count);
        Assert.Equal(10, data.Validation!.Count);
        // Every row once, in one set or the other.
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (double)i), data.Train.Inputs.ToArray().Concat(data.Validation.Inputs.ToArray()).Order());
        Assert.Equal(data.Validation.Inputs.ToArray(), again.Validation!.Inputs.ToArray());
        Assert.NotEqual(data.Validation.Inputs.ToArray(), other.Validation!.Inputs.ToArray());
        Assert.False(data.IsClassification);
    }

    [Fact]
    public void Standardisation_is_fitted_on_the_training_rows_and_applied_to_every_set()
    {
        var data = RunData.Prepare(Line(40), Line(5), validationFraction: 0.25, seed: 7, standardize: true);

        var train = data.Train.Inputs.ToArray();
        Assert.Equal(0, train.Average(), 12);
        var mean = data.Standardization!.Means[0];
        var deviation = data.Standardization.Deviations[0];
        // The test rows 0…4 and the validation rows go through the training rows' mean and deviation.
        var test = data.Test!.Inputs.ToArray();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal((i - mean) / deviation, test[i], 12);
        }
        Assert.All(data.Validation!.Inputs.ToArray(), v => Assert.Contains(Math.Round((v * deviation) + mean, 9), Enumerable.Range(0, 40).Select(i => (double)i)));
        Assert.Equal([mean], data.Normalization!.Mean);
    }

    [Theory]
    [InlineData(1.0, "The validation fraction must be from 0 to below 1; got 1.")]
    [InlineData(-0.1, "The validation fraction must be from 0 to below 1; got -0.1.")]
    [InlineData(double.NaN, "The validation fraction must be from 0 to below 1; got NaN.")]
    [InlineData(0.1, "--validation 0.1 of 3 rows leaves 0 for validation and 3 for training; both need at least one.")]
    [InlineData(0.9, "--validation 0.9 of 3 rows leaves 3 for validation and 0 for training; both need at least one.")]
    public void A_fraction_that_leaves_a_set_empty_or_is_out_of_range_is_refused(double fraction, string message)
        => Assert.Equal(message, Assert.Throws<BackpropException>(() => RunData.Prepare(Line(3), validationFraction: fraction)).Message);
}
