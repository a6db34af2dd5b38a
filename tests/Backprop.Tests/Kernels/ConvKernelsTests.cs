using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// im2col and col2im at every image width from 1 to 300 (every copy length and edge), with stride
/// and padding, against the definition; col2im as im2col's adjoint. .ci/run repeats these with
/// AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class ConvKernelsTests
{
    public static TheoryData<int> Widths() => [.. Enumerable.Range(1, 300)];

    private static double[] Draw(int length, int seed)
    {
        var rng = new Rng((ulong)seed);
        return [.. Enumerable.Range(0, length).Select(_ => rng.NextUniform(-1, 1))];
    }

    // col[(c·KH + i)·KW + j, oy·OW + ox] = x[c, oy·s − p + i, ox·s − p + j], 0 outside.
    private static double Expected(in ConvGeometry g, double[] x, int row, int column)
    {
        int c = row / (g.KH * g.KW), i = row / g.KW % g.KH, j = row % g.KW, oy = column / g.OW, ox = column % g.OW;
        int y = (oy * g.Stride) - g.Pad + i, xx = (ox * g.Stride) - g.Pad + j;
        return y < 0 || y >= g.H || xx < 0 || xx >= g.W ? 0 : x[(((c * g.H) + y) * g.W) + xx];
    }

    private static IEnumerable<ConvGeometry> GeometriesOfWidth(int width)
    {
        yield return new ConvGeometry(2, 3, width, 3, 3, 1, 1);
        yield return new ConvGeometry(1, 4, width, 1, Math.Min(width, 2), 1, 0);
        yield return new ConvGeometry(1, 5, width, 3, 3, 2, 2);
        yield return new ConvGeometry(2, 2, width, 2, 3, 3, 1);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Im2col_lays_out_every_receptive_field_at_every_width(int width) => Im2colMatchesDefinition<double>(width, seed: width);

    [Theory]
    [MemberData(nameof(Widths))]
    public void Col2im_adds_each_column_element_to_the_pixel_it_came_from(int width) => Col2imMatchesDefinition<double>(width);

    [Theory]
    [MemberData(nameof(Widths))]
    public void Im2col_works_on_float_at_every_width(int width) => Im2colMatchesDefinition<float>(width, seed: 5);

    [Theory]
    [MemberData(nameof(Widths))]
    public void Col2im_works_on_float_at_every_width(int width) => Col2imMatchesDefinition<float>(width);

    // Every element against the definition; NaN in the column matrix first, so padding must be written too.
    private static void Im2colMatchesDefinition<T>(int width, int seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        foreach (var g in GeometriesOfWidth(width))
        {
            var x = Draw(g.ImageLength, seed);
            var col = new T[g.PatchLength * g.Positions];
            Array.Fill(col, T.NaN);

            ConvKernels.Im2Col<T>(g, [.. x.Select(T.CreateTruncating)], col);

            for (var r = 0; r < g.PatchLength; r++)
            {
                for (var q = 0; q < g.Positions; q++)
                {
                    Assert.Equal(T.CreateTruncating(Expected(g, x, r, q)), col[(r * g.Positions) + q]);
                }
            }
        }
    }

    // Each column element added to the pixel Expected would read it from, rows of the column matrix
    // in order: the same additions in the same order as the kernel, so the bits must match.
    private static void Col2imMatchesDefinition<T>(int width) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        foreach (var g in GeometriesOfWidth(width))
        {
            var col = Draw(g.PatchLength * g.Positions, width + 1000).Select(T.CreateTruncating).ToArray();
            var expected = Draw(g.ImageLength, width + 2000).Select(T.CreateTruncating).ToArray();
            var image = (T[])expected.Clone();
            for (var r = 0; r < g.PatchLength; r++)
            {
                for (var q = 0; q < g.Positions; q++)
                {
                    int c = r / (g.KH * g.KW), i = r / g.KW % g.KH, j = r % g.KW, oy = q / g.OW, ox = q % g.OW;
                    int y = (oy * g.Stride) - g.Pad + i, xx = (ox * g.Stride) - g.Pad + j;
                    if (y >= 0 && y < g.H && xx >= 0 && xx < g.W)
                    {
                        expected[(((c * g.H) + y) * g.W) + xx] += col[(r * g.Positions) + q];
                    }
                }
            }

            ConvKernels.Col2Im<T>(g, col, image);

            Assert.Equal(expected, image);
        }
    }

    [Fact]
    public void Too_short_spans_are_refused()
    {
        var g = new ConvGeometry(1, 4, 4, 3, 3, 1, 1);

        Assert.Throws<ArgumentException>(() => ConvKernels.Im2Col<double>(g, new double[15], new double[9 * 16]));
        Assert.Throws<ArgumentException>(() => ConvKernels.Im2Col<double>(g, new double[16], new double[(9 * 16) - 1]));
        Assert.Throws<ArgumentException>(() => ConvKernels.Col2Im<double>(g, new double[9 * 16], new double[15]));
    }

    public static TheoryData<int> TransposeRows() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(TransposeRows))]
    public void Transpose_turns_every_shape_and_adds_each_columns_bias(int rows)
    {
        for (var cols = 1; cols <= 40; cols++)
        {
            TransposeMatchesDefinition<float>(rows, cols);
            TransposeMatchesDefinition<double>(rows, cols);
        }
    }

    private static void TransposeMatchesDefinition<T>(int rows, int cols) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var src = Draw(rows * cols, (rows * 100) + cols).Select(T.CreateChecked).ToArray();
        var bias = Draw(cols, (rows * 100) + cols + 7).Select(T.CreateChecked).ToArray();
        foreach (var b in new[] { bias, [] })
        {
            var dst = new T[rows * cols];
            Array.Fill(dst, T.NaN); // every element must be written

            ConvKernels.Transpose<T>(src, rows, cols, b, dst);

            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < cols; c++)
                {
                    var expected = b.Length == 0 ? src[(r * cols) + c] : src[(r * cols) + c] + b[c];
                    Assert.Equal(expected, dst[(c * rows) + r]);
                }
            }
        }
    }

    [Fact]
    public void Transpose_refuses_short_spans_and_a_bias_of_the_wrong_length()
    {
        var e = Assert.Throws<ArgumentException>(() => ConvKernels.Transpose<float>(new float[11], 3, 4, [], new float[12]));
        Assert.Equal("Spans too short for a 3×4 transpose, or a bias of 0 values for 4 columns.", e.Message);
        Assert.Throws<ArgumentException>(() => ConvKernels.Transpose<float>(new float[12], 3, 4, [], new float[11]));
        e = Assert.Throws<ArgumentException>(() => ConvKernels.Transpose<float>(new float[12], 3, 4, new float[3], new float[12]));
        Assert.Equal("Spans too short for a 3×4 transpose, or a bias of 3 values for 4 columns.", e.Message);
    }
}
