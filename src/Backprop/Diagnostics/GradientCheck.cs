using Backprop.Autograd;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Scalar;
using Backprop.Tensors;

namespace Backprop.Diagnostics;

/// <summary>One number's gradient by back-propagation beside its central finite difference.</summary>
/// <param name="Name">The tensor's name and the element index, e.g. <c>layer0.weight[3]</c>.</param>
/// <param name="Backprop">d(loss)/d(number) from <see cref="Tensor{T}.Backward"/>.</param>
/// <param name="Numerical">(loss(x + h) − loss(x − h)) / 2h.</param>
public readonly record struct GradientComparison(string Name, double Backprop, double Numerical)
{
    /// <summary>
    /// |backprop − numerical| / max(|backprop|, |numerical|, 1): relative for large gradients, absolute
    /// for gradients below 1, where finite differences cannot resolve relative differences.
    /// </summary>
    public double RelativeError => Math.Abs(Backprop - Numerical) / Math.Max(Math.Max(Math.Abs(Backprop), Math.Abs(Numerical)), 1.0);
}

/// <summary>One number's gradient from the tensor engine beside the scalar engine's (<see cref="Value"/>).</summary>
/// <param name="Name">The number's name (<c>w1</c>, <c>layer0.weight[0,1]</c>).</param>
/// <param name="Tensor">d(loss)/d(number) from the tensor engine.</param>
/// <param name="Scalar">d(loss)/d(number) from the scalar engine.</param>
public readonly record struct EngineComparison(string Name, double Tensor, double Scalar)
{
    /// <summary>|tensor − scalar| / max(|tensor|, |scalar|, 1), as <see cref="GradientComparison.RelativeError"/>.</summary>
    public double RelativeError => Math.Abs(Tensor - Scalar) / Math.Max(Math.Max(Math.Abs(Tensor), Math.Abs(Scalar)), 1.0);
}

/// <summary>
/// Checks back-propagation against central finite differences, in double precision: for each number
/// x of each tensor, (f(x + h) − f(x − h)) / 2h against the gradient <see cref="Tensor{T}.Backward"/> gives.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Compares gradients of the scalar <paramref name="loss"/> (rebuilt from scratch on each call)
    /// with respect to every number of <paramref name="tensors"/>.
    /// </summary>
    /// <param name="loss">Builds the loss from the current values of the tensors.</param>
    /// <param name="tensors">Leaves that require gradients.</param>
    /// <param name="step">The finite-difference step h (default 1e-6).</param>
    public static IReadOnlyList<GradientComparison> Compare(Func<Tensor<double>> loss, IReadOnlyList<Tensor<double>> tensors, double step = 1e-6)
        => Compare(loss, tensors, null, step);

    private static List<GradientComparison> Compare(Func<Tensor<double>> loss, IReadOnlyList<Tensor<double>> tensors, List<int[]>? chosen, double step)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var t in tensors)
        {
            t.ZeroGrad();
        }
        loss().Backward();
        var result = new List<GradientComparison>();
        for (var ti = 0; ti < tensors.Count; ti++)
        {
            var t = tensors[ti];
            var analytic = t.Grad?.ToDoubleArray() ?? new double[t.Length];
            foreach (var i in chosen?[ti] ?? Enumerable.Range(0, t.Length))
            {
                var saved = t.Data[i];
                double plus, minus;
                using (GradMode.NoGrad())
                {
                    t.Data[i] = saved + step;
                    plus = loss().Item();
                    t.Data[i] = saved - step;
                    minus = loss().Item();
                }
                t.Data[i] = saved;
                result.Add(new GradientComparison($"{t.Name ?? $"tensor{ti}"}[{i}]", analytic[i], (plus - minus) / (2 * step)));
            }
        }
        return result;
    }

    /// <summary>
    /// Checks every number of every parameter of <paramref name="model"/>: the gradient of
    /// <paramref name="loss"/> on <paramref name="inputs"/> and <paramref name="targets"/> by
    /// back-propagation against central finite differences. Use it on your own modules and ops.
    /// </summary>
    /// <param name="model">The network, checked in its current mode (training or evaluation); its values,
    /// buffers and generators are left as they were, and every evaluation draws the same Dropout masks.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="inputs">[rows, inputs].</param>
    /// <param name="targets">[rows, outputs], or class indices for cross-entropy.</param>
    /// <param name="step">The finite-difference step h (default 1e-6).</param>
    /// <returns>One row per number, named as the network names it (<c>w1</c>, <c>layer0.weight[0,1]</c>), frozen numbers included.</returns>
    /// <example>
    /// <code>
    /// var rows = GradientCheck.Check(myModule, new MeanSquaredError(), x, y);
    /// var worst = rows.MaxBy(r => r.RelativeError);   // above about 1e-6: a derivative rule is wrong
    /// </code>
    /// </example>
    public static IReadOnlyList<GradientComparison> Check(Module<double> model, Loss loss, Tensor<double> inputs, Tensor<double> targets, double step = 1e-6)
        => Check(model, loss, inputs, targets, int.MaxValue, 0, step);

    /// <summary>
    /// As <see cref="Check(Module{double}, Loss, Tensor{double}, Tensor{double}, double)"/>, but on large
    /// networks: of each parameter with more than <paramref name="samplePerParameter"/> numbers, only a
    /// seeded random sample of that many (distinct, in storage order) is checked; smaller parameters are checked whole.
    /// </summary>
    /// <param name="model">The network.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="inputs">[rows, …] examples.</param>
    /// <param name="targets">[rows, outputs], or class indices for cross-entropy.</param>
    /// <param name="samplePerParameter">The most numbers checked per parameter.</param>
    /// <param name="seed">Seed of the sample: the same seed checks the same numbers.</param>
    /// <param name="step">The finite-difference step h (default 1e-6).</param>
    /// <returns>One row per checked number, named as the network names it.</returns>
    public static IReadOnlyList<GradientComparison> Check(Module<double> model, Loss loss, Tensor<double> inputs, Tensor<double> targets, int samplePerParameter, ulong seed, double step = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplePerParameter);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        var parameters = model.Parameters().ToList<Tensor<double>>();
        // NOTE: every evaluation starts from the same generators (the same Dropout masks) and buffers
        // (BatchNorm's running statistics, which a training-mode forward pass updates), so the finite
        // differences see one function; both are left as they were.
        var generators = model.Generators().Select(g => (g.Value, g.Value.State)).ToList();
        var buffers = model.Buffers().Select(b => (Tensor: b, Values: b.Data.ToArray())).ToList();
        void Reset()
        {
            foreach (var (generator, state) in generators)
            {
                generator.State = state;
            }
            foreach (var (buffer, values) in buffers)
            {
                values.CopyTo(buffer.Data);
            }
        }
        var rng = new Rng(seed);
        var chosen = parameters.Select(p => Sample(p.Length, samplePerParameter, rng)).ToList();
        var rows = Compare(() =>
        {
            Reset();
            return loss.Compute(model.Forward(inputs), targets);
        }, parameters, chosen, step);
        Reset();
        var names = model.Elements().Select(e => e.Name).ToList();
        var offsets = new List<int>();
        var offset = 0;
        for (var p = 0; p < parameters.Count; p++)
        {
            offsets.AddRange(chosen[p].Select(i => offset + i));
            offset += parameters[p].Length;
        }
        return [.. rows.Select((r, i) => r with { Name = names[offsets[i]] })];
    }

    /// <summary>
    /// The gradient of every number from both engines: the tensor engine (<see cref="Tensor{T}.Backward"/>)
    /// and the scalar engine (<see cref="NetworkGraph"/>, one <see cref="Value"/> per number). Two views, one
    /// algorithm: they must agree to rounding.
    /// </summary>
    /// <param name="network">A network of Dense layers; its gradients are overwritten.</param>
    /// <param name="loss">SSR, MSE or cross-entropy.</param>
    /// <param name="inputs">[rows, inputs].</param>
    /// <param name="targets">[rows, outputs], or class indices for cross-entropy.</param>
    /// <exception cref="BackpropException">The network or loss has no scalar form.</exception>
    public static IReadOnlyList<EngineComparison> CompareEngines(Sequential<double> network, Loss loss, Tensor<double> inputs, Tensor<double> targets)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        var graph = NetworkGraph.Build(network, loss, inputs.ToDoubleArray(), targets.ToDoubleArray());
        graph.Loss.Backward();
        network.ZeroGrad();
        loss.Compute(network.Forward(inputs), targets).Backward();
        return [.. network.Elements().Select(e => new EngineComparison(e.Name, e.Gradient, graph.Parameters[e.Name].Grad))];
    }

    // k distinct indices of 0 … n − 1 drawn with rng (a partial Fisher–Yates shuffle), in increasing order; all when n ≤ k.
    private static int[] Sample(int n, int k, Rng rng)
    {
        if (n <= k)
        {
            return [.. Enumerable.Range(0, n)];
        }
        var indices = Enumerable.Range(0, n).ToArray();
        for (var i = 0; i < k; i++)
        {
            var j = i + (int)(rng.NextDouble() * (n - i));
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }
        return [.. indices.Take(k).Order()];
    }
}
