using System.Numerics;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The direct convolution kernel at every image width from 1 to 120 (every way the vectors
/// can cover a row, the last one overlapping), for several small patches and channel counts (the four-channel blocks and the rest),
/// against im2col and the GEMM — bit for bit, since it promises their operations. .ci/run repeats
/// these with AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class DirectConvKernelsTests
{
    public static TheoryData<int> Widths() => [.. Enumerable.Range(1, 120)];

    private static IEnumerable<ConvGeometry> GeometriesOfWidth(int width)
    {
        yield return new ConvGeometry(1, 4, width, 3, 3, 1, 1);
        yield return new ConvGeometry(3, 3, width, 3, 3, 1, 1);
        yield return new ConvGeometry(2, 5, width + 2, 3, 3, 1, 0);
        yield return new ConvGeometry(1, 6, width, 5, 5, 1, 2);
        yield return new ConvGeometry(2, 2, width, 2, 3, 1, 1);
        yield return new ConvGeometry(1, 1, width, 1, 1, 1, 0);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Direct_forward_gives_the_bits_of_im2col_and_the_gemm_in_float(int width) => SameBitsAsGemm<float>(width);

    [Theory]
    [MemberData(nameof(Widths))]
    public void Direct_forward_gives_the_bits_of_im2col_and_the_gemm_in_double(int width) => SameBitsAsGemm<double>(width);

    private static void SameBitsAsGemm<T>(int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var g in GeometriesOfWidth(width))
        {
            Assert.True(DirectConvKernels.Applies(g));
            foreach (var outChannels in new[] { 1, 4, 7 })
            {
                var seed = (width * 100) + outChannels;
                var x = Draw<T>(g.ImageLength, seed);
                var w = Draw<T>(outChannels * g.PatchLength, seed + 1);
                foreach (var bias in new[] { Draw<T>(outChannels, seed + 2), [] })
                {
                    // The GEMM path: columns, W·col, then the bias added to each row.
                    var col = new T[g.PatchLength * g.Positions];
                    ConvKernels.Im2Col<T>(g, x, col);
                    var expected = new T[outChannels * g.Positions];
                    Gemm.Multiply<T>(false, false, outChannels, g.Positions, g.PatchLength, w, col, expected, false, new GemmOptions(1));
                    for (var o = 0; o < outChannels && bias.Length > 0; o++)
                    {
                        for (var q = 0; q < g.Positions; q++)
                        {
                            expected[(o * g.Positions) + q] += bias[o];
                        }
                    }
                    var padded = Filled<T>(DirectConvKernels.PaddedLength(g));
                    var actual = Filled<T>(outChannels * g.Positions); // every output must be written

                    DirectConvKernels.Forward<T>(g, x, w, bias, outChannels, padded, actual);

                    Assert.Equal(expected, actual);
                }
            }
        }
    }

    [Fact]
    public void Direct_forward_pads_with_zeros_whatever_the_scratch_held()
    {
        // The padded buffer is scratch: NaN left in it by anything else must not reach the output.
        var g = new ConvGeometry(1, 3, 3, 3, 3, 1, 1);
        var x = Enumerable.Repeat(1.0, 9).ToArray();
        var w = Enumerable.Repeat(1.0, 9).ToArray();
        var y = new double[9];

        DirectConvKernels.Forward<double>(g, x, w, [], 1, Filled<double>(DirectConvKernels.PaddedLength(g)), y);

        // Each output sums the ones its 3×3 window covers inside the image: 4 at corners, 6 on edges, 9 in the middle.
        Assert.Equal([4.0, 6, 4, 6, 9, 6, 4, 6, 4], y);
    }

    [Fact]
    public void Direct_forward_refuses_a_stride_or_patch_it_does_not_take()
    {
        var strided = new ConvGeometry(1, 8, 8, 3, 3, 2, 1);
        var wide = new ConvGeometry(4, 8, 8, 3, 3, 1, 1);
        Assert.False(DirectConvKernels.Applies(strided));
        Assert.False(DirectConvKernels.Applies(wide));

        var e = Assert.Throws<ArgumentException>(() => DirectConvKernels.Forward<float>(strided, new float[64], new float[9], [], 1, new float[1000], new float[16]));
        Assert.Equal("The direct kernel takes stride 1 and patches of at most 32 (got stride 2, patch 9).", e.Message);
        e = Assert.Throws<ArgumentException>(() => DirectConvKernels.Forward<float>(wide, new float[256], new float[72], [], 2, new float[1000], new float[128]));
        Assert.Equal("The direct kernel takes stride 1 and patches of at most 32 (got stride 1, patch 36).", e.Message);
    }

    [Fact]
    public void Direct_forward_refuses_spans_too_short()
    {
        var g = new ConvGeometry(1, 8, 8, 3, 3, 1, 1);
        var padded = new float[DirectConvKernels.PaddedLength(g)];

        var e = Assert.Throws<ArgumentException>(() => DirectConvKernels.Forward<float>(g, new float[64], new float[18], [], 2, padded, new float[127]));
        Assert.Equal("Spans too short for a 1×8×8 image convolved to 2×8×8.", e.Message);
        Assert.Throws<ArgumentException>(() => DirectConvKernels.Forward<float>(g, new float[64], new float[18], [], 2, padded.AsSpan(1), new float[128]));
        Assert.Throws<ArgumentException>(() => DirectConvKernels.Forward<float>(g, new float[64], new float[17], [], 2, padded, new float[128]));
        Assert.Throws<ArgumentException>(() => DirectConvKernels.Forward<float>(g, new float[64], new float[18], new float[1], 2, padded, new float[128]));
    }

    private static T[] Draw<T>(int length, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)seed);
        return [.. Enumerable.Range(0, length).Select(_ => T.CreateChecked(rng.NextUniform(-1, 1)))];
    }

    private static T[] Filled<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[length];
        Array.Fill(values, T.NaN);
        return values;
    }
}
