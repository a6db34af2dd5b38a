using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

/// <summary>Gradient clipping by global norm (PyTorch's clip_grad_norm_), alone and in <see cref="Optimizer{T}.Step"/>.</summary>
public sealed class GradientClippingTests
{
    // Gradients (3, 4) and (12): the global norm is 13.
    private static Parameter<T>[] Parameters<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var a = new Parameter<T>("a", new Shape(2));
        var b = new Parameter<T>("b", new Shape(1, 1));
        a.GradData[0] = T.CreateChecked(3);
        a.GradData[1] = T.CreateChecked(4);
        b.GradData[0] = T.CreateChecked(12);
        return [a, b];
    }

    [Fact]
    public void Gradients_over_the_norm_are_scaled_to_it_over_every_parameter()
    {
        var p = Parameters<double>();
        var norm = GradientClipping.ClipGlobalNorm(p, 6.5);
        Assert.Equal(13, norm);
        var scale = 6.5 / (13 + 1e-6);
        Assert.Equal(3 * scale, p[0].Grad![0]);
        Assert.Equal(4 * scale, p[0].Grad![1]);
        Assert.Equal(12 * scale, p[1].Grad![0]);
    }

    [Fact]
    public void Gradients_within_the_norm_are_left_as_they_are()
    {
        var p = Parameters<double>();
        Assert.Equal(13, GradientClipping.ClipGlobalNorm(p, 13.5));
        Assert.Equal([3.0, 4.0], p[0].Grad!.ToDoubleArray());
        Assert.Equal(12.0, p[1].Grad![0]);
    }

    [Fact]
    public void Numbers_held_fixed_do_not_count_towards_the_norm()
    {
        var p = Parameters<double>();
        p[1].SetTrainable(false);
        Assert.Equal(5, GradientClipping.ClipGlobalNorm(p, 100));
    }

    [Fact]
    public void A_float_norm_past_floats_range_is_still_clipped()
    {
        var p = Parameters<float>();
        p[0].GradData[0] = 3e30f;
        p[0].GradData[1] = 4e30f;
        var norm = GradientClipping.ClipGlobalNorm(p, 1);
        Assert.Equal(5e30, norm, 5e30 * 1e-6);
        Assert.Equal(0.6f, p[0].Grad![0], 1e-6f);
        Assert.Equal(0.8f, p[0].Grad![1], 1e-6f);
    }

    [Fact]
    public void A_non_finite_gradient_is_left_for_the_optimizer_to_refuse()
    {
        var p = Parameters<double>();
        p[0].GradData[0] = double.NaN;
        var optimizer = new GradientDescent<double>(p, 0.1) { MaxGradientNorm = 1 };
        optimizer.Step();
        Assert.True(optimizer.LastStepSkipped);
        Assert.True(double.IsNaN(optimizer.LastGradientNorm));
        Assert.Equal(12.0, p[1].Grad![0]);
        Assert.Equal(0.0, p[1][0]);
    }

    [Fact]
    public void The_optimizer_clips_before_its_update_and_reports_the_norm()
    {
        var p = Parameters<double>();
        var optimizer = new GradientDescent<double>(p, 0.1) { MaxGradientNorm = 1.3 };
        optimizer.Step();
        Assert.Equal(13, optimizer.LastGradientNorm);
        var scale = 1.3 / (13 + 1e-6);
        Assert.Equal(-0.1 * (12 * scale), p[1][0]);
        Assert.Equal(0.1 * 12 * scale, optimizer.LastMaxStepSize, 15);
    }

    [Fact]
    public void Clipping_and_decay_allocate_nothing_per_step()
    {
        var p = Parameters<double>();
        var optimizer = new Momentum<double>(p, 0.01) { MaxGradientNorm = 1, WeightDecay = 0.1 };
        optimizer.Step();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            optimizer.Step();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_norm_that_is_not_positive_and_finite_is_refused(double norm)
    {
        var optimizer = new GradientDescent<double>(Parameters<double>(), 0.1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.MaxGradientNorm = norm);
        Assert.StartsWith("The largest gradient norm must be a positive, finite number.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGlobalNorm(Parameters<double>(), norm));
        Assert.StartsWith("The largest gradient norm must be a positive, finite number.", e.Message, StringComparison.Ordinal);
    }
}
