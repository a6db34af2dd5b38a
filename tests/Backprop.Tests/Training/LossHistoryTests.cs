using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// The loss history is bounded: every loss of a short run, every k-th (k doubling) of a long one, the
/// latest always; a resumed run ends with the record of a run never stopped; adding allocates nothing.
/// </summary>
public sealed class LossHistoryTests
{
    // Loss i is i: a kept value says which step it came from.
    private static LossHistory Counting(int count)
    {
        var history = new LossHistory();
        for (var i = 0; i < count; i++)
        {
            history.Add(i);
        }
        return history;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(LossHistory.MaxKept)]
    public void A_run_of_up_to_MaxKept_steps_keeps_every_loss(int steps)
    {
        var history = Counting(steps);

        Assert.Equal(1, history.Interval);
        Assert.Equal(Enumerable.Range(0, steps).Select(i => (double)i), history);
        Assert.All(Enumerable.Range(0, steps), i => Assert.Equal(i, history.StepOf(i)));
    }

    [Theory]
    [InlineData(LossHistory.MaxKept + 1)]
    [InlineData(LossHistory.MaxKept + 2)]
    [InlineData(3 * LossHistory.MaxKept + 5)]
    [InlineData(1_000_003)]
    public void A_long_run_keeps_every_kth_loss_and_the_latest_in_bounded_memory(int steps)
    {
        var history = Counting(steps);

        Assert.InRange(history.Count, (LossHistory.MaxKept / 2) + 1, LossHistory.MaxKept + 1);
        Assert.Equal(steps, history.TotalCount);
        Assert.True(history.Interval > 1 && (history.Interval & (history.Interval - 1)) == 0);
        Assert.All(Enumerable.Range(0, history.Count), i => Assert.Equal(history.StepOf(i), history[i]));
        Assert.Equal(steps - 1, history[^1]);
        // Evenly spaced: every step that is a multiple of the interval, none other but the latest.
        Assert.Equal(Enumerable.Range(0, ((steps - 1) / history.Interval) + 1).Select(i => (double)(i * history.Interval)), history.Take(((steps - 1) / history.Interval) + 1));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(LossHistory.MaxKept)]
    [InlineData(LossHistory.MaxKept + 1)]
    [InlineData(5 * LossHistory.MaxKept + 3)]
    public void A_record_saved_and_restored_part_way_ends_as_the_unbroken_one(int stopAt)
    {
        var unbroken = Counting(20 * LossHistory.MaxKept);
        var first = Counting(stopAt);

        var restored = LossHistory.Restore([.. first], first.Interval, first.TotalCount)!;
        for (var i = stopAt; i < 20 * LossHistory.MaxKept; i++)
        {
            restored.Add(i);
        }

        Assert.Equal(unbroken, restored);
        Assert.Equal(unbroken.Interval, restored.Interval);
        Assert.Equal(unbroken.TotalCount, restored.TotalCount);
    }

    [Fact]
    public void A_record_that_does_not_fit_its_interval_and_count_is_not_restored()
    {
        Assert.Null(LossHistory.Restore([1.0, 2.0], 3, 2));
        Assert.Null(LossHistory.Restore([1.0, 2.0], 1, 5));
        Assert.Null(LossHistory.Restore([1.0, 2.0, 3.0], 2, 4));
        Assert.NotNull(LossHistory.Restore([1.0, 2.0], 1, 2));
    }

    [Fact]
    public void Adding_allocates_nothing()
    {
        var history = new LossHistory();
        history.Add(0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i < 1_000_000; i++)
        {
            history.Add(i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_checkpoint_of_a_long_run_holds_the_bounded_record_and_resumes_it_exactly()
    {
        var network = Lesson.CreateNetwork<double>();
        var trainer = new Trainer<double>(network, new SumSquaredResiduals(), new GradientDescent<double>(network.Parameters(), 0.1));
        var x = Datasets.Dosage.InputTensor<double>();
        var y = Datasets.Dosage.TargetTensor<double>();
        var options = new TrainingOptions { MaxSteps = 3 * LossHistory.MaxKept, MinStepSize = null };
        trainer.Fit(x, y, options with { MaxSteps = LossHistory.MaxKept + 100 });
        var bytes = CheckpointFile.ToBytes(new Checkpoint<double>(trainer.CaptureState(), [], null));

        var loaded = (Checkpoint<double>)CheckpointFile.FromBytes(bytes, "run.ckpt");
        var resumedNetwork = Lesson.CreateNetwork<double>();
        var resumed = new Trainer<double>(resumedNetwork, new SumSquaredResiduals(), new GradientDescent<double>(resumedNetwork.Parameters(), 0.1)).Fit(x, y, options, [], loaded.State);
        var straightNetwork = Lesson.CreateNetwork<double>();
        var straight = new Trainer<double>(straightNetwork, new SumSquaredResiduals(), new GradientDescent<double>(straightNetwork.Parameters(), 0.1)).Fit(x, y, options);

        Assert.True(bytes.Length < 60_000, $"{bytes.Length} bytes");
        Assert.Equal(2, loaded.State.LossHistory.Interval);
        Assert.Equal(straight.LossHistory, resumed.LossHistory);
        Assert.Equal(straight.LossHistory.Interval, resumed.LossHistory.Interval);
        Assert.Equal(straightNetwork.Elements().Select(e => e.Value), resumedNetwork.Elements().Select(e => e.Value));
    }
}
