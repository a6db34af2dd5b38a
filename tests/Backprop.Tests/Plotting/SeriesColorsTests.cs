using Backprop.Plotting;

namespace Backprop.Tests.Plotting;

/// <summary>The series of one plot never share a colour, however many there are.</summary>
public sealed class SeriesColorsTests
{
    [Fact]
    public void Every_series_of_a_plot_of_up_to_400_series_has_a_colour_of_its_own()
    {
        for (var count = 1; count <= 400; count++)
        {
            var colours = Enumerable.Range(0, count).Select(i => SeriesColors.Hex(i, count)).ToList();
            Assert.True(colours.Distinct(StringComparer.Ordinal).Count() == count, $"{count} series share colours");
            Assert.All(colours, c => Assert.Matches("^#[0-9a-f]{6}$", c));
        }
    }

    [Fact]
    public void Up_to_ten_series_take_category10_in_order_and_the_same_index_the_same_colour()
    {
        Assert.Equal(["#1f77b4", "#ff7f0e", "#2ca02c"], Enumerable.Range(0, 3).Select(i => SeriesColors.Hex(i, 3)));
        Assert.Equal(SeriesColors.Hex(9, 10), SeriesColors.Hex(9, 10));
        Assert.Equal("#17becf", SeriesColors.Hex(9, 10));
        // Past ten the hues go round the wheel: none is white or black.
        Assert.DoesNotContain(Enumerable.Range(0, 11).Select(i => SeriesColors.Hex(i, 11)), c => c is "#ffffff" or "#000000");
    }

    [Fact]
    public void An_index_outside_the_series_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesColors.Hex(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesColors.Hex(-1, 3));
    }
}
