using System.Numerics;
using Backprop.Distributed;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Distributed;

/// <summary>
/// Data-parallel training with ranks as threads (<see cref="ThreadGroup"/>): the same logic as over MPI,
/// checked against the single-process run of the same global batch.
/// </summary>
public class DataParallelTests
{
    public static TheoryData<string, int> LossesAndSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var loss in new[] { "ssr", "mse", "cross-entropy", "mae", "huber", "bce" })
        {
            foreach (var n in new[] { 1, 2, 4 })
            {
                data.Add(loss, n);
            }
        }
        return data;
    }

    [Fact]
    public void Shares_are_contiguous_as_equal_as_possible_and_together_the_batch()
    {
        for (var rows = 0; rows <= 300; rows++)
        {
            for (var size = 1; size <= 5; size++)
            {
                var next = 0;
                for (var rank = 0; rank < size; rank++)
                {
                    var (start, count) = DataParallel.Shard(rows, rank, size);
                    Assert.Equal(next, start);
                    Assert.InRange(count, rows / size, (rows + size - 1) / size);
                    next = start + count;
                }
                Assert.Equal(rows, next);
            }
        }
    }

    [Theory]
    [MemberData(nameof(LossesAndSizes))]
    public void One_step_gradient_is_the_single_process_gradient_within_the_summation_bound_in_double(string loss, int n)
        => OneStepWithinBound<double>(loss, n, Math.ScaleB(1, -53));

    [Theory]
    [MemberData(nameof(LossesAndSizes))]
    public void One_step_gradient_is_the_single_process_gradient_within_the_summation_bound_in_float(string loss, int n)
        => OneStepWithinBound<float>(loss, n, Math.ScaleB(1, -24));

    // docs/distributed.md: the batch's gradient of each number is a sum over rows of terms that both runs
    // compute with the same bits (N a power of two); the single process adds them in one chain of at most
    // B + ⌈B/256⌉ roundings each, the processes in chains of B/N, then the allreduce's at most N − 1
    // additions and the weighting. So |g_N − g_1| ≤ (γ(B + ⌈B/256⌉) + γ(B/N + N + 1)) · Σ_rows |term|,
    // γ(m) = m·u/(1 − m·u), u the unit roundoff. A mean loss averaged instead of summed (or the reverse)
    // is off by a factor N and fails this by far.
    private static void OneStepWithinBound<T>(string loss, int n, double u) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Rows = 32;
        var (x, y) = (DdpProblem.X<T>(Rows), DdpProblem.Y<T>(loss, Rows));
        var options = new TrainingOptions { MaxSteps = 1, MinStepSize = null };
        var single = DdpProblem.Trainer<T>(loss, "gd", 0.01);
        var start = DdpProblem.Parameters(single.Model);
        var recorder = new DdpProblem.GradientRecorder<T>();
        var singleResult = single.Fit(x, y, options, [recorder]);

        var ranks = ThreadGroup.Run(n, comm =>
        {
            var trainer = DdpProblem.Trainer<T>(loss, "gd", 0.01);
            new DistributedDataParallel<T>(comm).Attach(trainer);
            var r = new DdpProblem.GradientRecorder<T>();
            var result = trainer.Fit(x, y, options, [r]);
            return (Gradient: r.Steps[0], Loss: result.LossHistory[0]);
        });
        foreach (var rank in ranks)
        {
            Assert.Equal(ranks[0].Gradient, rank.Gradient);
        }
        var (terms, lossTerms) = RowTerms(loss, start, x, y);
        double Gamma(double m) => m * u / (1 - (m * u));
        var factor = Gamma(Rows + Math.Ceiling(Rows / 256.0)) + Gamma((Rows / n) + n + 1);
        for (var j = 0; j < terms.Length; j++)
        {
            var (g1, gN) = (double.CreateChecked(recorder.Steps[0][j]), double.CreateChecked(ranks[0].Gradient[j]));
            if (n == 1)
            {
                Assert.Equal(g1, gN);
            }
            Assert.True(Math.Abs(gN - g1) <= factor * terms[j], $"number {j}: {gN:R} on {n} processes, {g1:R} on one; bound {factor * terms[j]:R}");
        }
        Assert.True(Math.Abs(ranks[0].Loss - singleResult.LossHistory[0]) <= (factor + (3 * u)) * lossTerms, $"loss {ranks[0].Loss:R} against {singleResult.LossHistory[0]:R}");
    }

    // Σ over rows of |each row's term| of every number's gradient, and of the loss, in double: each row's
    // own gradient, divided by the rows for a mean loss.
    private static (double[] Gradient, double Loss) RowTerms<T>(string loss, T[] start, Tensor<T> x, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = x.Shape.Rows;
        var network = DdpProblem.Network<double>(loss);
        var offset = 0;
        foreach (var p in network.Parameters())
        {
            for (var i = 0; i < p.Length; i++)
            {
                p.Data[i] = double.CreateChecked(start[offset++]);
            }
        }
        var lossFunction = DdpProblem.Loss(loss);
        var scale = lossFunction.SumsOverRows ? 1.0 : 1.0 / rows;
        var sums = new double[offset];
        var lossSum = 0.0;
        var yWidth = y.Length / rows;
        for (var r = 0; r < rows; r++)
        {
            var xr = Tensor<double>.FromArray([.. x.Data.Slice(r * DdpProblem.Inputs, DdpProblem.Inputs).ToArray().Select(double.CreateChecked)], 1, DdpProblem.Inputs);
            var yValues = y.Data.Slice(r * yWidth, yWidth).ToArray().Select(double.CreateChecked).ToArray();
            var yr = y.Shape.Rank == 1 ? Tensor<double>.FromArray(yValues, 1) : Tensor<double>.FromArray(yValues, 1, yWidth);
            network.ZeroGrad();
            var value = lossFunction.Compute(network.Forward(xr), yr);
            value.Backward();
            lossSum += Math.Abs(value.Item()) * scale;
            var k = 0;
            foreach (var p in network.Parameters())
            {
                foreach (var g in p.Grad!.Data)
                {
                    sums[k++] += Math.Abs(g) * scale;
                }
            }
        }
        return (sums, lossSum);
    }

    [Theory]
    [InlineData("gd", 2)]
    [InlineData("adam", 2)]
    [InlineData("adam", 4)]
    public void Mini_batch_training_on_n_ranks_follows_the_single_process_run_and_ends_the_same_on_every_rank(string optimizer, int n)
    {
        const int Rows = 52; // batches of 12: the last of each epoch has 4 rows, one per process at most
        var (x, y) = (DdpProblem.X<double>(Rows), DdpProblem.Y<double>("mse", Rows));
        var options = new TrainingOptions { MaxSteps = 30, MinStepSize = null, BatchSize = 12 };
        var single = DdpProblem.Trainer<double>("mse", optimizer, 0.01);
        var singleResult = single.Fit(x, y, options);
        var ranks = ThreadGroup.Run(n, comm =>
        {
            var trainer = DdpProblem.Trainer<double>("mse", optimizer, 0.01);
            new DistributedDataParallel<double>(comm).Attach(trainer);
            var result = trainer.Fit(x, y, options);
            return (Parameters: DdpProblem.Parameters(trainer.Model), result.Steps, result.FinalLoss);
        });
        var expected = DdpProblem.Parameters(single.Model);
        foreach (var rank in ranks)
        {
            Assert.Equal(ranks[0].Parameters, rank.Parameters);
            Assert.Equal(30, rank.Steps);
        }
        // 30 steps of the one-step bound (about 1e-15 of the gradients' scale each), grown by the run.
        var scale = expected.Max(Math.Abs);
        var worst = expected.Zip(ranks[0].Parameters, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-12 * scale, $"largest difference {worst:R}");
        Assert.Equal(singleResult.FinalLoss, ranks[0].FinalLoss, 1e-12);
    }

    [Fact]
    public void Small_buckets_give_the_same_bits_as_one_bucket()
    {
        var (x, y) = (DdpProblem.X<float>(40), DdpProblem.Y<float>("cross-entropy", 40));
        var options = new TrainingOptions { MaxSteps = 10, MinStepSize = null, BatchSize = 8 };
        float[] Train(int bucket) => ThreadGroup.Run(2, comm =>
        {
            var trainer = DdpProblem.Trainer<float>("cross-entropy", "adam", 0.01);
            new DistributedDataParallel<float>(comm, bucket).Attach(trainer);
            trainer.Fit(x, y, options);
            return DdpProblem.Parameters(trainer.Model);
        })[0];
        Assert.Equal(Train(DistributedDataParallel<float>.DefaultBucketElements), Train(7));
    }

    [Fact]
    public void Attach_starts_every_rank_from_rank_0s_parameters()
    {
        var ranks = ThreadGroup.Run(3, comm =>
        {
            var trainer = DdpProblem.Trainer<double>("mse", "gd", 0.1, seed: (ulong)(5 + comm.Rank));
            new DistributedDataParallel<double>(comm).Attach(trainer);
            return DdpProblem.Parameters(trainer.Model);
        });
        var rank0 = DdpProblem.Parameters(DdpProblem.Network<double>("mse", 5));
        Assert.All(ranks, r => Assert.Equal(rank0, r));
    }

    [Fact]
    public void A_batch_smaller_than_the_processes_is_refused()
    {
        var messages = ThreadGroup.Run(4, comm =>
        {
            var trainer = DdpProblem.Trainer<double>("mse", "gd", 0.1);
            new DistributedDataParallel<double>(comm).Attach(trainer);
            return Assert.Throws<BackpropException>(() => trainer.Fit(DdpProblem.X<double>(10), DdpProblem.Y<double>("mse", 10), new TrainingOptions { BatchSize = 3 })).Message;
        });
        Assert.All(messages, m => Assert.Equal("With 4 processes every batch needs at least 4 rows (one per process); batches of 3 rows of 10 leave 3 rows in a batch.", m));
        var last = ThreadGroup.Run(4, comm =>
        {
            var trainer = DdpProblem.Trainer<double>("mse", "gd", 0.1);
            new DistributedDataParallel<double>(comm).Attach(trainer);
            return Assert.Throws<BackpropException>(() => trainer.Fit(DdpProblem.X<double>(10), DdpProblem.Y<double>("mse", 10), new TrainingOptions { BatchSize = 8 })).Message;
        });
        Assert.Equal("With 4 processes every batch needs at least 4 rows (one per process); batches of 8 rows of 10 leave 2 rows in a batch.", last[0]);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 1)]
    public void A_run_resumed_from_rank_0s_state_continues_bit_for_bit_on_the_same_n_and_within_the_bound_on_another(int before, int after)
    {
        var (x, y) = (DdpProblem.X<float>(48), DdpProblem.Y<float>("cross-entropy", 48));
        var options = new TrainingOptions { MaxSteps = 20, MinStepSize = null, BatchSize = 8 };
        var full = ThreadGroup.Run(before, comm =>
        {
            var trainer = DdpProblem.Trainer<float>("cross-entropy", "adam", 0.01);
            new DistributedDataParallel<float>(comm).Attach(trainer);
            var capture = new CaptureAt<float>(9);
            trainer.Fit(x, y, options, [capture]);
            return (State: capture.State!, Final: DdpProblem.Parameters(trainer.Model));
        });
        var resumed = ThreadGroup.Run(after, comm =>
        {
            var trainer = DdpProblem.Trainer<float>("cross-entropy", "adam", 0.01, seed: 99);
            var ddp = new DistributedDataParallel<float>(comm);
            var state = ddp.BroadcastState(comm.Rank == 0 ? full[0].State : null);
            ddp.Attach(trainer);
            trainer.Fit(x, y, options, [], state);
            return DdpProblem.Parameters(trainer.Model);
        });
        Assert.All(resumed, r => Assert.Equal(resumed[0], r));
        if (before == after)
        {
            Assert.Equal(full[0].Final, resumed[0]);
        }
        else
        {
            var worst = full[0].Final.Zip(resumed[0], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-4f * full[0].Final.Max(Math.Abs), $"largest difference {worst:R}");
        }
    }

    private sealed class CaptureAt<T>(int step) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public TrainingState<T>? State { get; private set; }

        public override void OnStepEnd(Trainer<T> trainer, int s)
        {
            if (s == step)
            {
                State = trainer.CaptureState();
            }
        }
    }

    [Fact]
    public void Ranks_with_different_parameters_are_found_out()
    {
        var messages = ThreadGroup.Run(2, comm =>
        {
            var ddp = new DistributedDataParallel<double>(comm);
            var network = DdpProblem.Network<double>("mse", (ulong)(5 + comm.Rank));
            return Record.Exception(() => ddp.VerifySameParameters(network))?.Message;
        });
        Assert.All(messages, m => Assert.Equal("The 2 processes' parameters are not the same after training: the processes did not train the same network on the same data with the same options.", m));
        Assert.All(ThreadGroup.Run(2, comm =>
        {
            var network = DdpProblem.Network<double>("mse");
            new DistributedDataParallel<double>(comm).VerifySameParameters(network);
            return true;
        }), Assert.True);
    }
}
