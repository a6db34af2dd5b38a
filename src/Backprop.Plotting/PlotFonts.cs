using ScottPlot;

namespace Backprop.Plotting;

/// <summary>
/// The font plots are drawn with. NOTE: ScottPlot's native Skia build for Linux has no fontconfig,
/// so it finds no system font by itself: we load a font file that a plain Debian machine has
/// (fonts-dejavu-core, or fonts-liberation2).
/// </summary>
internal static class PlotFonts
{
    private static readonly string[] Candidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ];

    private static readonly Lazy<string> Family = new(Load);

    /// <summary>The family name to set on every plot.</summary>
    public static string Name => Family.Value;

    private static string Load()
    {
        foreach (var path in Candidates.Where(File.Exists))
        {
            const string name = "Backprop Sans";
            Fonts.AddFontFile(name, path);
            var bold = path.Replace("Sans.ttf", "Sans-Bold.ttf", StringComparison.Ordinal).Replace("-Regular.ttf", "-Bold.ttf", StringComparison.Ordinal);
            if (bold != path && File.Exists(bold))
            {
                Fonts.AddFontFile(name, bold, bold: true);
            }
            return name;
        }
        if (OperatingSystem.IsLinux())
        {
            throw new BackpropException("Plots need a font: install the DejaVu fonts (Debian: apt-get install fonts-dejavu-core).");
        }
        return Fonts.Default;
    }
}
