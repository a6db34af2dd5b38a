using System.Numerics;
using Backprop.Data;
using Backprop.Distributed;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Training;

namespace Backprop.Tests.Distributed;

/// <summary>
/// The library's run, data-parallel through its spec (<see cref="RunSpec.Distributed"/> set to a
/// <see cref="ProcessGroup"/>), with ranks as threads (<see cref="ThreadGroup"/>).
/// </summary>
public class ProcessGroupTests
{
    // 3 inputs to 3 classes, 60 rows, with validation and test rows.
    private static RunSpec Spec(Precision precision, int epochs = 6)
    {
        var rng = new Rng(11);
        double[] Inputs(int rows) => [.. Enumerable.Range(0, rows * 3).Select(_ => rng.NextNormal())];
        int[] Labels(double[] x) => [.. Enumerable.Range(0, x.Length / 3).Select(r => (int)Math.Abs(Math.Floor(x[3 * r] + x[(3 * r) + 1])) % 3)];
        var (train, test) = (Inputs(60), Inputs(20));
        Dataset Set(string name, double[] x) => Dataset.ForClassification(name, x, Labels(x), ["a", "b", "c"], "class", ["0", "1", "2"]);
        return new RunSpec
        {
            Data = RunData.Prepare(Set("train", train), Set("test", test), validationFraction: 0.2, seed: 3),
            Network = new NetworkRecipe([3, 8, 3], Activation.Tanh) { Seed = 4 },
            Loss = new CrossEntropy(),
            Optimizer = OptimizerKind.Adam,
            LearningRate = 0.02,
            Options = new TrainingOptions { Epochs = epochs, BatchSize = 12, MaxSteps = int.MaxValue, MinStepSize = null, ShuffleSeed = 5 },
            Precision = precision,
        };
    }

    private static double[] Values<T>(RunResult result) where T : unmanaged, IFloatingPointIeee754<T>
        => [.. ((RunResult<T>)result).Network.Elements().Select(e => double.CreateChecked(e.Value))];

    [Theory]
    [InlineData(Precision.Double, 2, 1e-12)]
    [InlineData(Precision.Double, 4, 1e-12)]
    [InlineData(Precision.Float, 2, 1e-4)]
    public void A_run_on_n_processes_is_the_single_process_run_within_the_bound_and_the_same_on_every_process(Precision precision, int n, double relative)
    {
        var spec = Spec(precision);
        var single = new TrainingRun(spec).Run();
        var ranks = ThreadGroup.Run(n, comm => new TrainingRun(spec with { Distributed = new ProcessGroup(comm) }).Run());

        double[] Of(RunResult r) => precision == Precision.Float ? Values<float>(r) : Values<double>(r);
        var expected = Of(single);
        foreach (var rank in ranks)
        {
            Assert.Equal(Of(ranks[0]), Of(rank));
            Assert.Equal(single.Result.Steps, rank.Result.Steps);
            Assert.Equal(single.Epochs.Count, rank.Epochs.Count);
        }
        var worst = expected.Zip(Of(ranks[0]), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= relative * expected.Max(Math.Abs), $"largest difference {worst:R}");
        // Every process scores the whole sets (the same network): the same test accuracy.
        Assert.Equal(single.Test!.Value.Accuracy!.Value, ranks[0].Test!.Value.Accuracy!.Value, 1e-9);
    }

    [Fact]
    public void Rank_0s_starting_values_and_state_to_resume_go_to_every_process()
    {
        var spec = Spec(Precision.Double, epochs: 2);
        var capture = new CaptureAt(7);
        var first = new TrainingRun(spec with { Options = spec.Options with { MaxSteps = 7 } });
        first.Monitors.Add(RunMonitor.Of(capture));
        first.Run();
        var straight = ThreadGroup.Run(2, comm => Values<double>(new TrainingRun(spec with { Distributed = new ProcessGroup(comm) }).Run()));

        // Only rank 0 holds the state (as only rank 0 reads the checkpoint); the other's network starts elsewhere.
        var resumed = ThreadGroup.Run(2, comm =>
        {
            var spec2 = spec with { Distributed = new ProcessGroup(comm), Network = spec.Network with { Seed = comm.Rank == 0 ? 4UL : 99UL } };
            return Values<double>(new TrainingRun(spec2) { Resume = comm.Rank == 0 ? capture.State : null }.Run());
        });

        Assert.Equal(resumed[0], resumed[1]);
        // Resumed from a single-process state at step 7 on 2 processes: the 2-process run within the bound.
        var worst = straight[0].Zip(resumed[0], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-12 * straight[0].Max(Math.Abs), $"largest difference {worst:R}");
    }

    [Fact]
    public void A_stop_asked_for_on_one_process_stops_every_process_after_the_same_step()
    {
        var spec = Spec(Precision.Double, epochs: 50);
        var ranks = ThreadGroup.Run(2, comm =>
        {
            var run = new TrainingRun(spec with { Distributed = new ProcessGroup(comm) });
            if (comm.Rank == 1)
            {
                run.Monitors.Add(RunMonitor.Of(new StopAt(9)));
            }
            return run.Run().Result;
        });

        Assert.All(ranks, r => Assert.Equal((9, StopReason.Interrupted), (r.Steps, r.StopReason)));
        Assert.Equal("interrupted", ranks[0].StopMessage);
    }

    [Fact]
    public void Without_a_group_the_run_trains_alone_and_the_agreement_is_not_attached()
    {
        var spec = Spec(Precision.Double, epochs: 1);
        var run = new TrainingRun(spec);
        var stopped = new StopAt(3);
        run.Monitors.Add(RunMonitor.Of(stopped));

        var result = run.Run().Result;

        Assert.Equal((3, StopReason.Interrupted, "stop at 3"), (result.Steps, result.StopReason, result.StopMessage));
    }

    private sealed class CaptureAt(int step) : TrainingMonitor<double>
    {
        public TrainingState<double>? State { get; private set; }

        public override void OnStepEnd(Trainer<double> trainer, int s)
        {
            if (s == step)
            {
                State = trainer.CaptureState();
            }
        }
    }

    private sealed class StopAt(int step) : TrainingMonitor<double>
    {
        public override void OnStepEnd(Trainer<double> trainer, int s)
        {
            if (s == step)
            {
                trainer.RequestStop(StopReason.Interrupted, $"stop at {step}");
            }
        }
    }
}
