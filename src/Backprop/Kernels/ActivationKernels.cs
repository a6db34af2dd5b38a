using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Span kernels for activation functions and their derivatives: y = f(x) forward, and
/// dx = dy · f′(x) (written, or added with <c>accumulate</c>) backward, expressed through y = f(x)
/// where that is exact, so a layer needs to keep only its output.
/// </summary>
/// <remarks>
/// <para>
/// Every kernel takes spans of equal length; the destination may be the same span as an input (in
/// place) but must not overlap one partially. Transcendental parts (eˣ, log, tanh) go through
/// <see cref="TensorPrimitives"/> in chunks of <see cref="Chunk"/> elements held on the stack; the
/// arithmetic that combines them runs in one shared loop (<see cref="Map"/>) over Vector512, then
/// Vector256, then Vector128 lanes, then a scalar tail, parameterised by an operator struct whose
/// scalar and vector <c>Invoke</c> compute the same formula in the same order (no fused
/// multiply-add), so every instruction set gives the same bits for that part.
/// </para>
/// </remarks>
[SkipLocalsInit]
public static class ActivationKernels
{
    /// <summary>Elements per stack-held chunk of intermediate values.</summary>
    private const int Chunk = 256;

    /// <summary>ReLU: y = max(x, 0); NaN stays NaN, −0 becomes +0.</summary>
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x, x, destination);
        TensorPrimitives.Max(x, T.Zero, destination);
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (ReLU's derivative from its output y = max(x, 0); 0 at the kink, as PyTorch does).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> destination, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map<T, ReluDerivative<T>>(y, dy, destination, accumulate);

    /// <summary>dx = dy · (1 − y²) (tanh's derivative from its output y = tanh x).</summary>
    /// <remarks>
    /// NOTE: 1 − y² cancels where tanh saturates: y carries an absolute rounding error of about one ulp
    /// of 1, so at |x| ≈ 10 the derivative is 7.6e-8 off (relative) in double. Where x is at hand, use
    /// <see cref="TanhBackwardFromInput"/>, or keep the derivative from <see cref="Tanh"/>.
    /// </remarks>
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> destination, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map<T, TanhDerivative<T>>(y, dy, destination, accumulate);

    /// <summary>
    /// dx = dy · sech²x (tanh's derivative from its input x), with sech²x = 4e/(1 + e)², e = e^−2|x|:
    /// every term is positive, so nothing cancels where tanh saturates, and e underflows to 0 (sech² → 0) for large |x|.
    /// </summary>
    public static void TanhBackwardFromInput<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> destination, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x, dy, destination);
        Span<T> s = stackalloc T[Math.Min(Chunk, x.Length)];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            var ss = s[..n];
            SechSquared(x.Slice(start, n), ss);
            Map<T, Product<T>>(ss, dy.Slice(start, n), destination.Slice(start, n), accumulate);
        }
    }

    // s = sech²x = 4e/(1 + e)², e = e^−2|x|
    private static void SechSquared<T>(ReadOnlySpan<T> x, Span<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Abs(x, s);
        TensorPrimitives.Multiply(s, T.CreateChecked(-2), s);
        TensorPrimitives.Exp<T>(s, s);
        Map<T, SechSquaredFromExp<T>>(s, s, s, accumulate: false);
    }

    /// <summary>dx = dy · y · (1 − y) (the sigmoid's derivative from its output y = σ(x)).</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> destination, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map<T, SigmoidDerivative<T>>(y, dy, destination, accumulate);

    /// <summary>dx = dy · s for a stored derivative s (SoftPlus keeps s = σ(x) from its forward pass).</summary>
    public static void MultiplyBackward<T>(ReadOnlySpan<T> derivative, ReadOnlySpan<T> dy, Span<T> destination, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map<T, Product<T>>(derivative, dy, destination, accumulate);

    /// <summary>
    /// σ(x) = 1/(1 + e^−x), computed as (x ≥ 0 ? 1 : e)/(1 + e) with e = e^−|x|, so neither branch overflows.
    /// </summary>
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x, x, destination);
        Span<T> e = stackalloc T[Math.Min(Chunk, x.Length)];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            var xs = x.Slice(start, n);
            var es = e[..n];
            ExpMinusAbs(xs, es);
            Map<T, SigmoidFromExp<T>>(xs, es, destination.Slice(start, n), accumulate: false);
        }
    }

    /// <summary>
    /// SoftPlus: y = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), which never overflows; when
    /// <paramref name="sigmoid"/> is not empty it also receives the derivative σ(x) = (x ≥ 0 ? 1 : e)/(1 + e), e = e^−|x|.
    /// </summary>
    /// <remarks>
    /// log1p(u) = log(w)·u/(w − 1) with w = 1 + u rounded (Goldberg), exact to a few ulps even where
    /// 1 + u rounds to 1 (then it is u). <paramref name="destination"/> may be <paramref name="x"/>;
    /// <paramref name="sigmoid"/> must not overlap either.
    /// </remarks>
    public static void SoftPlus<T>(ReadOnlySpan<T> x, Span<T> destination, Span<T> sigmoid = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x, x, destination);
        var withSigmoid = !sigmoid.IsEmpty;
        if (withSigmoid)
        {
            CheckLengths(x, x, sigmoid);
            if (sigmoid.Overlaps(x) || sigmoid.Overlaps(destination))
            {
                throw new ArgumentException("The sigmoid destination must not overlap the input or the output.", nameof(sigmoid));
            }
        }
        Span<T> e = stackalloc T[Math.Min(Chunk, x.Length)];
        Span<T> log = stackalloc T[Math.Min(Chunk, x.Length)];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            var xs = x.Slice(start, n);
            Span<T> es = e[..n], ls = log[..n];
            ExpMinusAbs(xs, es);
            if (withSigmoid)
            {
                Map<T, SigmoidFromExp<T>>(xs, es, sigmoid.Slice(start, n), accumulate: false);
            }
            TensorPrimitives.Add(es, T.One, ls);
            TensorPrimitives.Log(ls, ls);
            Map<T, Log1PFromLog<T>>(es, ls, ls, accumulate: false);
            // Written last: destination may be x.
            Map<T, MaxZeroPlus<T>>(xs, ls, destination.Slice(start, n), accumulate: false);
        }
    }

    /// <summary>
    /// tanh x; for |x| &lt; 1/4 from its Taylor series x·(1 − x²/3 + 2x⁴/15 − …) to x²¹, elsewhere
    /// from <see cref="TensorPrimitives.Tanh{T}(ReadOnlySpan{T}, Span{T})"/>.
    /// </summary>
    /// <remarks>
    /// NOTE: TensorPrimitives.Tanh builds tanh from e^(−2|x|) − 1, which cancels for small |x|: in float it
    /// gives tanh(0) = −6e-8 and is 1.5% off at x = 1e-6. Below |x| = 1/4 its error grows past about 5 ulps;
    /// there the series (terms shrinking by x²/16·0.4 each, eleven terms reach double precision) is used.
    /// When <paramref name="derivative"/> is not empty it also receives tanh′(x) = sech²x, computed
    /// from x as <see cref="TanhBackwardFromInput"/> does (not from 1 − y², which cancels near ±1); it
    /// must not overlap <paramref name="x"/> or <paramref name="destination"/>, which may be the same span.
    /// </remarks>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> destination, Span<T> derivative = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(x, x, destination);
        var withDerivative = !derivative.IsEmpty;
        if (withDerivative)
        {
            CheckLengths(x, x, derivative);
            if (derivative.Overlaps(x) || derivative.Overlaps(destination))
            {
                throw new ArgumentException("The derivative destination must not overlap the input or the output.", nameof(derivative));
            }
        }
        Span<T> t = stackalloc T[Math.Min(Chunk, x.Length)];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            var xs = x.Slice(start, n);
            var ds = withDerivative ? derivative.Slice(start, n) : default;
            if (!TanhInOnePass(xs, destination.Slice(start, n), ds))
            {
                TanhInPasses(xs, t[..n], destination.Slice(start, n), ds);
            }
        }
    }

    /// <summary>
    /// One chunk of <see cref="Tanh"/> pass by pass: sech² (when wanted) through TensorPrimitives.Exp,
    /// tanh through TensorPrimitives.Tanh into <paramref name="t"/>, then the series below |x| = 1/4.
    /// The reference <see cref="TanhInOnePass"/> must match bit for bit.
    /// </summary>
    internal static void TanhInPasses<T>(ReadOnlySpan<T> x, Span<T> t, Span<T> destination, Span<T> derivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!derivative.IsEmpty)
        {
            // Before the output: destination may be x.
            SechSquared(x, derivative);
        }
        TensorPrimitives.Tanh(x, t);
        Map<T, SmallTanh<T>>(x, t, destination, accumulate: false);
    }

    /// <summary>
    /// One chunk of <see cref="Tanh"/> in a single pass over the vectors, with one e = e^(−2|x|) per
    /// element for both tanh and sech²; false (nothing done) where TensorPrimitives would not take its
    /// vector path (no SIMD, fewer elements than a Vector128) and for any number type but float (double's
    /// TensorPrimitives.Exp is not Vector*.Exp bit for bit).
    /// </summary>
    /// <remarks>
    /// The same bits as <see cref="TanhInPasses"/>: TensorPrimitives.Tanh computes, per vector,
    /// z = e^(−2|x|) − 1 and tanh x = sign(x) · (−z/(z + 2)), with e from the same Vector*.Exp as
    /// TensorPrimitives.Exp and the vector width it would choose (Vector512 from 16 floats, Vector256
    /// from 8, else Vector128; the last, partial vector recomputed overlapping the one before), and the
    /// formulas after it are element by element. ActivationKernelsTests compares the two at every length.
    /// </remarks>
    internal static bool TanhInOnePass<T>(ReadOnlySpan<T> x, Span<T> destination, Span<T> derivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) || !Vector128.IsHardwareAccelerated || x.Length < Vector128<T>.Count)
        {
            return false;
        }
        var withDerivative = !derivative.IsEmpty;
        ref var rx = ref MemoryMarshal.GetReference(x);
        ref var rd = ref MemoryMarshal.GetReference(destination);
        ref var rs = ref MemoryMarshal.GetReference(derivative);
        var n = (nuint)x.Length;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<T>.Count)
        {
            var w = (nuint)Vector512<T>.Count;
            // Loaded before anything is written: destination may be x.
            var last = Vector512.LoadUnsafe(ref rx, n - w);
            for (; i + w <= n; i += w)
            {
                TanhVector(Vector512.LoadUnsafe(ref rx, i), ref rd, ref rs, i, withDerivative);
            }
            if (i < n)
            {
                TanhVector(last, ref rd, ref rs, n - w, withDerivative);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<T>.Count)
        {
            var w = (nuint)Vector256<T>.Count;
            var last = Vector256.LoadUnsafe(ref rx, n - w);
            for (; i + w <= n; i += w)
            {
                TanhVector(Vector256.LoadUnsafe(ref rx, i), ref rd, ref rs, i, withDerivative);
            }
            if (i < n)
            {
                TanhVector(last, ref rd, ref rs, n - w, withDerivative);
            }
        }
        else
        {
            var w = (nuint)Vector128<T>.Count;
            var last = Vector128.LoadUnsafe(ref rx, n - w);
            for (; i + w <= n; i += w)
            {
                TanhVector(Vector128.LoadUnsafe(ref rx, i), ref rd, ref rs, i, withDerivative);
            }
            if (i < n)
            {
                TanhVector(last, ref rd, ref rs, n - w, withDerivative);
            }
        }
        return true;
    }

    // tanh and sech² of one vector x, stored at destination[at] and derivative[at].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TanhVector<T>(Vector512<T> x, ref T destination, ref T derivative, nuint at, bool withDerivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var twice = Vector512.Abs(x) * Vector512.Create(T.CreateTruncating(-2));
        var e = Vector512.Exp(twice.AsSingle()).As<float, T>();
        if (withDerivative)
        {
            SechSquaredFromExp<T>.Invoke(e, e).StoreUnsafe(ref derivative, at);
        }
        var z = e - Vector512<T>.One;
        var t = (x & Vector512.Create(-T.Zero)) ^ (-z / (z + Vector512.Create(T.CreateTruncating(2))));
        // The series only where some |x| < 1/4 (it selects t for every other lane anyway).
        (SmallTanh<T>.AnyBelowQuarter(x) ? SmallTanh<T>.Invoke(x, t) : t).StoreUnsafe(ref destination, at);
    }

    /// <inheritdoc cref="TanhVector{T}(Vector512{T}, ref T, ref T, nuint, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TanhVector<T>(Vector256<T> x, ref T destination, ref T derivative, nuint at, bool withDerivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var twice = Vector256.Abs(x) * Vector256.Create(T.CreateTruncating(-2));
        var e = Vector256.Exp(twice.AsSingle()).As<float, T>();
        if (withDerivative)
        {
            SechSquaredFromExp<T>.Invoke(e, e).StoreUnsafe(ref derivative, at);
        }
        var z = e - Vector256<T>.One;
        var t = (x & Vector256.Create(-T.Zero)) ^ (-z / (z + Vector256.Create(T.CreateTruncating(2))));
        // The series only where some |x| < 1/4 (it selects t for every other lane anyway).
        (SmallTanh<T>.AnyBelowQuarter(x) ? SmallTanh<T>.Invoke(x, t) : t).StoreUnsafe(ref destination, at);
    }

    /// <inheritdoc cref="TanhVector{T}(Vector512{T}, ref T, ref T, nuint, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TanhVector<T>(Vector128<T> x, ref T destination, ref T derivative, nuint at, bool withDerivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var twice = Vector128.Abs(x) * Vector128.Create(T.CreateTruncating(-2));
        var e = Vector128.Exp(twice.AsSingle()).As<float, T>();
        if (withDerivative)
        {
            SechSquaredFromExp<T>.Invoke(e, e).StoreUnsafe(ref derivative, at);
        }
        var z = e - Vector128<T>.One;
        var t = (x & Vector128.Create(-T.Zero)) ^ (-z / (z + Vector128.Create(T.CreateTruncating(2))));
        // The series only where some |x| < 1/4 (it selects t for every other lane anyway).
        (SmallTanh<T>.AnyBelowQuarter(x) ? SmallTanh<T>.Invoke(x, t) : t).StoreUnsafe(ref destination, at);
    }

    // e = e^−|x|
    private static void ExpMinusAbs<T>(ReadOnlySpan<T> x, Span<T> e) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Abs(x, e);
        TensorPrimitives.Negate<T>(e, e);
        TensorPrimitives.Exp<T>(e, e);
    }

    private static void CheckLengths<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The inputs have different lengths ({a.Length} and {b.Length}).", nameof(b));
        }
        if (destination.Length < a.Length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} elements; {a.Length} are needed.", nameof(destination));
        }
        if (PartlyOverlaps(a, destination) || PartlyOverlaps(b, destination))
        {
            throw new ArgumentException("The destination overlaps an input without starting at the same element.", nameof(destination));
        }
    }

    private static bool PartlyOverlaps<T>(ReadOnlySpan<T> input, Span<T> destination)
        => input.Overlaps(destination, out var offset) && offset != 0;

    /// <summary>
    /// destination[i] = TOp(a[i], b[i]) (+ destination[i] when <paramref name="accumulate"/>): the
    /// shared loop. Vector512 lanes first, then Vector256, then Vector128, then one element at a time.
    /// </summary>
    internal static void Map<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T>
    {
        CheckLengths(a, b, destination);
        var length = a.Length;
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        ref var rd = ref MemoryMarshal.GetReference(destination);
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; (int)i <= length - Vector512<T>.Count; i += (nuint)Vector512<T>.Count)
            {
                var r = TOp.Invoke(Vector512.LoadUnsafe(ref ra, i), Vector512.LoadUnsafe(ref rb, i));
                (accumulate ? r + Vector512.LoadUnsafe(ref rd, i) : r).StoreUnsafe(ref rd, i);
            }
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; (int)i <= length - Vector256<T>.Count; i += (nuint)Vector256<T>.Count)
            {
                var r = TOp.Invoke(Vector256.LoadUnsafe(ref ra, i), Vector256.LoadUnsafe(ref rb, i));
                (accumulate ? r + Vector256.LoadUnsafe(ref rd, i) : r).StoreUnsafe(ref rd, i);
            }
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            for (; (int)i <= length - Vector128<T>.Count; i += (nuint)Vector128<T>.Count)
            {
                var r = TOp.Invoke(Vector128.LoadUnsafe(ref ra, i), Vector128.LoadUnsafe(ref rb, i));
                (accumulate ? r + Vector128.LoadUnsafe(ref rd, i) : r).StoreUnsafe(ref rd, i);
            }
        }
        // The tail: fewer elements than the narrowest vector (or all of them without SIMD).
        for (; (int)i < length; i++)
        {
            var r = TOp.Invoke(Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i));
            Unsafe.Add(ref rd, i) = accumulate ? r + Unsafe.Add(ref rd, i) : r;
        }
    }

    /// <summary>A binary element-wise formula, with scalar and vector forms computing the same operations in the same order.</summary>
    internal interface IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        static abstract T Invoke(T a, T b);

        static abstract Vector128<T> Invoke(Vector128<T> a, Vector128<T> b);

        static abstract Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);

        static abstract Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);
    }

    // (y, dy) → y > 0 ? dy : 0
    private readonly struct ReluDerivative<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T y, T dy) => y > T.Zero ? dy : T.Zero;

        public static Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) => Vector128.GreaterThan(y, Vector128<T>.Zero) & dy;

        public static Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => Vector256.GreaterThan(y, Vector256<T>.Zero) & dy;

        public static Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => Vector512.GreaterThan(y, Vector512<T>.Zero) & dy;
    }

    // (y, dy) → dy·(1 − y·y)
    private readonly struct TanhDerivative<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T y, T dy) => dy * (T.One - (y * y));

        public static Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) => dy * (Vector128<T>.One - (y * y));

        public static Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy * (Vector256<T>.One - (y * y));

        public static Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy * (Vector512<T>.One - (y * y));
    }

    // (y, dy) → dy·y·(1 − y)
    private readonly struct SigmoidDerivative<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T y, T dy) => dy * y * (T.One - y);

        public static Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) => dy * y * (Vector128<T>.One - y);

        public static Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy * y * (Vector256<T>.One - y);

        public static Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy * y * (Vector512<T>.One - y);
    }

    // (s, dy) → dy·s
    private readonly struct Product<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T s, T dy) => dy * s;

        public static Vector128<T> Invoke(Vector128<T> s, Vector128<T> dy) => dy * s;

        public static Vector256<T> Invoke(Vector256<T> s, Vector256<T> dy) => dy * s;

        public static Vector512<T> Invoke(Vector512<T> s, Vector512<T> dy) => dy * s;
    }

    // (e = e^−2|x|, e) → 4e/(1 + e)²; NaN stays NaN, e = 0 (|x| large or infinite) gives 0.
    private readonly struct SechSquaredFromExp<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T Four = T.CreateChecked(4);

        public static T Invoke(T e, T unused)
        {
            var d = T.One + e;
            return Four * e / (d * d);
        }

        public static Vector128<T> Invoke(Vector128<T> e, Vector128<T> unused)
        {
            var d = Vector128<T>.One + e;
            return Vector128.Create(Four) * e / (d * d);
        }

        public static Vector256<T> Invoke(Vector256<T> e, Vector256<T> unused)
        {
            var d = Vector256<T>.One + e;
            return Vector256.Create(Four) * e / (d * d);
        }

        public static Vector512<T> Invoke(Vector512<T> e, Vector512<T> unused)
        {
            var d = Vector512<T>.One + e;
            return Vector512.Create(Four) * e / (d * d);
        }
    }

    // (x, e = e^−|x|) → (x ≥ 0 ? 1 : e)/(1 + e); NaN x gives NaN through e.
    private readonly struct SigmoidFromExp<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T x, T e) => (x >= T.Zero ? T.One : e) / (T.One + e);

        public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> e)
            => Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<T>.Zero), Vector128<T>.One, e) / (Vector128<T>.One + e);

        public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> e)
            => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<T>.Zero), Vector256<T>.One, e) / (Vector256<T>.One + e);

        public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> e)
            => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<T>.Zero), Vector512<T>.One, e) / (Vector512<T>.One + e);
    }

    // (u, log w) with w = 1 + u → u when w rounds to 1, else log(w)·u/(w − 1)  (Goldberg's log1p)
    private readonly struct Log1PFromLog<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T u, T logW)
        {
            var w = T.One + u;
            return w == T.One ? u : logW * u / (w - T.One);
        }

        public static Vector128<T> Invoke(Vector128<T> u, Vector128<T> logW)
        {
            var w = Vector128<T>.One + u;
            return Vector128.ConditionalSelect(Vector128.Equals(w, Vector128<T>.One), u, logW * u / (w - Vector128<T>.One));
        }

        public static Vector256<T> Invoke(Vector256<T> u, Vector256<T> logW)
        {
            var w = Vector256<T>.One + u;
            return Vector256.ConditionalSelect(Vector256.Equals(w, Vector256<T>.One), u, logW * u / (w - Vector256<T>.One));
        }

        public static Vector512<T> Invoke(Vector512<T> u, Vector512<T> logW)
        {
            var w = Vector512<T>.One + u;
            return Vector512.ConditionalSelect(Vector512.Equals(w, Vector512<T>.One), u, logW * u / (w - Vector512<T>.One));
        }
    }

    // (x, l) → max(x, 0) + l; max propagates NaN.
    private readonly struct MaxZeroPlus<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Invoke(T x, T l) => T.Max(x, T.Zero) + l;

        public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> l) => Vector128.Max(x, Vector128<T>.Zero) + l;

        public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> l) => Vector256.Max(x, Vector256<T>.Zero) + l;

        public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> l) => Vector512.Max(x, Vector512<T>.Zero) + l;
    }

    // (x, t = tanh x from TensorPrimitives) → |x| < 1/4 ? x·P(x²) : t, P the Taylor series of tanh(x)/x to x²⁰.
    private readonly struct SmallTanh<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly T Quarter = T.CreateChecked(0.25);

        // Coefficients of x²ᵏ in tanh(x)/x: 1, −1/3, 2/15, −17/315, 62/2835, … (Bernoulli numbers).
        private static readonly T C1 = T.CreateChecked(-1.0 / 3);
        private static readonly T C2 = T.CreateChecked(2.0 / 15);
        private static readonly T C3 = T.CreateChecked(-17.0 / 315);
        private static readonly T C4 = T.CreateChecked(62.0 / 2835);
        private static readonly T C5 = T.CreateChecked(-1382.0 / 155925);
        private static readonly T C6 = T.CreateChecked(21844.0 / 6081075);
        private static readonly T C7 = T.CreateChecked(-929569.0 / 638512875);
        private static readonly T C8 = T.CreateChecked(6404582.0 / 10854718875);
        private static readonly T C9 = T.CreateChecked(-443861162.0 / 1856156927625);
        private static readonly T C10 = T.CreateChecked(18888466084.0 / 194896477400625);

        public static bool AnyBelowQuarter(Vector128<T> x) => Vector128.LessThanAny(Vector128.Abs(x), Vector128.Create(Quarter));

        public static bool AnyBelowQuarter(Vector256<T> x) => Vector256.LessThanAny(Vector256.Abs(x), Vector256.Create(Quarter));

        public static bool AnyBelowQuarter(Vector512<T> x) => Vector512.LessThanAny(Vector512.Abs(x), Vector512.Create(Quarter));

        public static T Invoke(T x, T t)
        {
            if (!(T.Abs(x) < Quarter))
            {
                return t;
            }
            var s = x * x;
            var p = (((((((((((C10 * s) + C9) * s) + C8) * s) + C7) * s) + C6) * s) + C5) * s) + C4;
            p = (((((((p * s) + C3) * s) + C2) * s) + C1) * s) + T.One;
            return x * p;
        }

        public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> t)
        {
            var s = x * x;
            var p = (((((((((((Vector128.Create(C10) * s) + Vector128.Create(C9)) * s) + Vector128.Create(C8)) * s) + Vector128.Create(C7)) * s)
                + Vector128.Create(C6)) * s) + Vector128.Create(C5)) * s) + Vector128.Create(C4);
            p = (((((((p * s) + Vector128.Create(C3)) * s) + Vector128.Create(C2)) * s) + Vector128.Create(C1)) * s) + Vector128<T>.One;
            return Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x), Vector128.Create(Quarter)), x * p, t);
        }

        public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> t)
        {
            var s = x * x;
            var p = (((((((((((Vector256.Create(C10) * s) + Vector256.Create(C9)) * s) + Vector256.Create(C8)) * s) + Vector256.Create(C7)) * s)
                + Vector256.Create(C6)) * s) + Vector256.Create(C5)) * s) + Vector256.Create(C4);
            p = (((((((p * s) + Vector256.Create(C3)) * s) + Vector256.Create(C2)) * s) + Vector256.Create(C1)) * s) + Vector256<T>.One;
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Quarter)), x * p, t);
        }

        public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> t)
        {
            var s = x * x;
            var p = (((((((((((Vector512.Create(C10) * s) + Vector512.Create(C9)) * s) + Vector512.Create(C8)) * s) + Vector512.Create(C7)) * s)
                + Vector512.Create(C6)) * s) + Vector512.Create(C5)) * s) + Vector512.Create(C4);
            p = (((((((p * s) + Vector512.Create(C3)) * s) + Vector512.Create(C2)) * s) + Vector512.Create(C1)) * s) + Vector512<T>.One;
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Quarter)), x * p, t);
        }
    }
}
