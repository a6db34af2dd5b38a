using ScottPlot;

namespace Backprop.Plotting;

/// <summary>
/// Colours for the series of one plot, none repeated: the ten of Category10 (matplotlib's, the ones
/// readers know) for up to ten series, and hues spaced evenly around the colour wheel for more.
/// </summary>
public static class SeriesColors
{
    private static readonly string[] Category10 =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ];

    /// <summary>The colour of series <paramref name="index"/> of <paramref name="count"/>, as <c>#rrggbb</c>.</summary>
    /// <remarks>
    /// For more than ten series the hue of series i is 360° × i / count, at saturation 0.65 and a
    /// lightness that alternates between 0.38 and 0.52 so that neighbours differ in two ways.
    /// </remarks>
    public static string Hex(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        if (count <= Category10.Length)
        {
            return Category10[index];
        }
        var (r, g, b) = FromHsl(360.0 * index / count, 0.65, index % 2 == 0 ? 0.38 : 0.52);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// <summary>The colour of series <paramref name="index"/> of <paramref name="count"/>.</summary>
    public static Color Get(int index, int count) => Color.FromHex(Hex(index, count));

    private static (int R, int G, int B) FromHsl(double hue, double saturation, double lightness)
    {
        var chroma = (1 - Math.Abs((2 * lightness) - 1)) * saturation;
        var h = hue / 60;
        var x = chroma * (1 - Math.Abs((h % 2) - 1));
        var (r, g, b) = (int)h switch
        {
            0 => (chroma, x, 0.0),
            1 => (x, chroma, 0.0),
            2 => (0.0, chroma, x),
            3 => (0.0, x, chroma),
            4 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        var m = lightness - (chroma / 2);
        static int Byte(double v) => (int)Math.Round(Math.Clamp(v, 0, 1) * 255);
        return (Byte(r + m), Byte(g + m), Byte(b + m));
    }
}
