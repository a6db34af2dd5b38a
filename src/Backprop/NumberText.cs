using System.Globalization;

namespace Backprop;

/// <summary>How Backprop writes numbers for people: one place, so that reports, pictures and pages agree.</summary>
public static class NumberText
{
    /// <summary>
    /// Six significant digits, invariant culture: 0.1, 3.23505, 0.000618461, 1.2E+195 ("G6"); NaN and
    /// infinities as .NET writes them.
    /// </summary>
    public static string Short(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>As <see cref="Short"/>, with a true minus sign (−, U+2212) as formulas are typeset: −0.5, 1.2E−05.</summary>
    public static string Typeset(double value) => Short(value).Replace('-', '−');
}
