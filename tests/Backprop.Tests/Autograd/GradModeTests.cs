using System.Runtime.ExceptionServices;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Tests.Autograd;

/// <summary>
/// No-grad scopes. Tests that open scopes by hand run on their own thread: the mode is per thread,
/// and a failing assertion must not leave another test's thread without recording.
/// </summary>
public sealed class GradModeTests
{
    private static Tensor<double> Leaf() => new([0.5, -1, 2], new Shape(3), requiresGrad: true);

    private static void OnOwnThread(Action test)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                test();
            }
#pragma warning disable CA1031 // rethrown on the test's thread
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    [Fact]
    public void Inside_NoGrad_results_are_not_recorded_but_are_computed()
    {
        var x = Leaf();

        Tensor<double> y;
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            y = (x * 2.0).Tanh();
        }

        Assert.False(y.RequiresGrad);
        Assert.Null(y.Creator);
        Assert.True(y.IsLeaf);
        Assert.Equal(Math.Tanh(-2), y[1], 1e-15);
    }

    [Fact]
    public void Recording_resumes_after_the_scope_is_disposed()
    {
        var x = Leaf();
        using (GradMode.NoGrad())
        {
            _ = x.Square();
        }

        var y = x.Square();

        Assert.True(GradMode.IsEnabled);
        Assert.True(y.RequiresGrad);
        Assert.Equal("square", y.Creator!.Name);
        y.Sum().Backward();
        Assert.Equal([1.0, -2, 4], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Scopes_nest_and_recording_resumes_only_after_the_outermost() => OnOwnThread(() =>
    {
        var x = Leaf();
        var outer = GradMode.NoGrad();
        var inner = GradMode.NoGrad();
        inner.Dispose();

        Assert.False(GradMode.IsEnabled);
        Assert.False(x.Exp().RequiresGrad);

        outer.Dispose();

        Assert.True(GradMode.IsEnabled);
        Assert.True(x.Exp().RequiresGrad);
    });

    [Fact]
    public void Disposing_a_scope_twice_ends_it_only_once() => OnOwnThread(() =>
    {
        var outer = GradMode.NoGrad();
        var inner = GradMode.NoGrad();
        inner.Dispose();
        inner.Dispose();

        Assert.False(GradMode.IsEnabled);

        outer.Dispose();
        Assert.True(GradMode.IsEnabled);
    });

    [Fact]
    public void Disposing_a_scope_that_NoGrad_did_not_start_does_not_stop_recording() => OnOwnThread(() =>
    {
        var stray = default(NoGradScope);
        stray.Dispose();

        Assert.True(GradMode.IsEnabled);
        Assert.True(Leaf().Tanh().RequiresGrad);
    });

    [Fact]
    public void A_result_computed_in_NoGrad_acts_as_a_constant_afterwards()
    {
        var x = Leaf();
        Tensor<double> frozen;
        using (GradMode.NoGrad())
        {
            frozen = x * 3.0;
        }

        (frozen * x).Sum().Backward();

        // Only the direct path counts: d/dx (c·x) with c = 3x held fixed is c.
        Assert.Equal([1.5, -3, 6], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void NoGrad_applies_only_to_the_thread_that_opened_it() => OnOwnThread(() =>
    {
        using (GradMode.NoGrad())
        {
            var recorded = false;
            var other = new Thread(() => recorded = GradMode.IsEnabled && Leaf().Exp().RequiresGrad);
            other.Start();
            other.Join();

            Assert.True(recorded);
            Assert.False(GradMode.IsEnabled);
        }
    });
}
