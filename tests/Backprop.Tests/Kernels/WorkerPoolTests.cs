using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The worker pool: every task exactly once, whoever runs it, however late workers wake.</summary>
public sealed class WorkerPoolTests
{
    /// <summary>Counts how often each task ran.</summary>
    private sealed class CountingJob(int tasks) : IParallelJob
    {
        public int[] Runs { get; } = new int[tasks];

        public void Execute(int task) => Interlocked.Increment(ref Runs[task]);
    }

    private sealed class FailingJob : IParallelJob
    {
        public void Execute(int task)
        {
            if (task == 3)
            {
                throw new InvalidOperationException("task 3 failed");
            }
        }
    }

    /// <summary>
    /// The caller's first task waits (spinning, allocating nothing) until a worker has joined, however
    /// late the machine schedules it; a task a worker runs takes 100 ms (so the caller must block for it).
    /// </summary>
    private sealed class SlowWorkerJob(int callerThread) : IParallelJob
    {
        public int WorkerTasks;

        public void Execute(int task)
        {
            if (Environment.CurrentManagedThreadId == callerThread)
            {
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                while (Volatile.Read(ref WorkerTasks) == 0 && System.Diagnostics.Stopwatch.GetElapsedTime(start) < TimeSpan.FromMinutes(2))
                {
                    Thread.Yield();
                }
            }
            else
            {
                Interlocked.Increment(ref WorkerTasks);
                Thread.Sleep(100);
            }
        }
    }

    [Fact]
    public void A_caller_that_blocks_for_a_late_worker_allocates_nothing_even_on_a_new_thread()
    {
        // A thread's first blocking wait allocates (its wait structures, the event's lock object); the
        // pool makes those before any job, so a training step that happens to wait allocates nothing.
        long allocated = -1;
        var workerTasks = 0;
        var thread = new Thread(() =>
        {
            var id = Environment.CurrentManagedThreadId;
            WorkerPool.Shared.Run(new CountingJob(4), 4, 2);
            var job = new SlowWorkerJob(id);
            var before = GC.GetAllocatedBytesForCurrentThread();
            WorkerPool.Shared.Run(job, 400, 2);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            workerTasks = job.WorkerTasks;
        });
        thread.Start();
        thread.Join();

        Assert.True(workerTasks > 0, "no worker joined the job: the waiting path was not exercised");
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task Back_to_back_jobs_from_several_callers_run_every_task_exactly_once()
    {
        // Many short jobs in a row: workers often wake after a job has closed and must not slip into
        // it, or into the next one uncounted.
        var callers = Enumerable.Range(0, 3).Select(caller => Task.Run(() =>
        {
            var rng = new Rng((ulong)caller + 1);
            for (var j = 0; j < 400; j++)
            {
                var tasks = 1 + rng.NextInt(40);
                var job = new CountingJob(tasks);
                WorkerPool.Shared.Run(job, tasks, 1 + rng.NextInt(4));
                Assert.All(job.Runs, runs => Assert.Equal(1, runs));
            }
        })).ToArray();
        await Task.WhenAll(callers);
    }

    [Fact]
    public void A_failing_task_is_rethrown_to_the_caller_and_the_pool_keeps_working()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkerPool.Shared.Run(new FailingJob(), 10, 3));
        Assert.Equal("task 3 failed", error.Message);

        var job = new CountingJob(20);
        WorkerPool.Shared.Run(job, 20, 3);
        Assert.All(job.Runs, runs => Assert.Equal(1, runs));
    }
}
