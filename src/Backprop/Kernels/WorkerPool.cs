using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;

namespace Backprop.Kernels;

/// <summary>Work split into numbered tasks that may run in any order, on any thread.</summary>
internal interface IParallelJob
{
    /// <summary>Runs task <paramref name="task"/> (0 ≤ task &lt; the task count given to the pool).</summary>
    void Execute(int task);
}

/// <summary>
/// A small pool of long-lived threads that run <see cref="IParallelJob"/>s with the calling thread,
/// allocating nothing per job.
/// </summary>
/// <remarks>
/// <para>
/// A job is a count of tasks. The calling thread opens the job, wakes up to <c>threads − 1</c>
/// workers and takes task numbers from a shared counter itself; a worker that wakes while the job
/// is still open joins it and takes task numbers too. When the counter runs dry the caller closes
/// the job — workers that wake later find it closed and go back to sleep — and waits only for the
/// workers that joined. So a worker slow to be scheduled (a busy machine) never delays a job; the
/// caller just does more of it. Which thread runs which task varies from run to run, so a job must
/// make each task's result independent of that (the GEMM tasks write disjoint blocks of C).
/// </para>
/// <para>
/// The job state is one 64-bit word: a generation number (odd while the job is open, even once
/// closed) and the number of workers inside. Joining is a compare-and-swap that only succeeds while
/// the generation is the open one, so a worker can never slip into a job after it closed.
/// </para>
/// <para>
/// Workers spin for a short while after a job (so the next job of a training step starts without a
/// kernel wake-up), then block on an event. One job runs at a time: concurrent callers queue on a lock.
/// </para>
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "The pool and its events live as long as the process.")]
internal sealed class WorkerPool
{
    /// <summary>The process-wide pool.</summary>
    public static readonly WorkerPool Shared = new();

    /// <summary>How long an idle worker spins before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 4000; // 250 µs

    private const long InsideMask = 0xFFFF_FFFF;

    private readonly object gate = new();
    private readonly List<Worker> workers = [];
    private readonly ManualResetEventSlim lastOut = new(false);
    private readonly ManualResetEventSlim neverSet = new(false);
    private IParallelJob? job;
    private int taskCount;
    private int nextTask;
    private long state; // generation << 32 | workers inside
    private long generation;
    private Exception? failure;

    /// <summary>Whether this thread has blocked on an event before (see <see cref="WarmUpWaits"/>).</summary>
    [ThreadStatic]
    private static bool waitsWarmed;

    /// <summary>
    /// Whether this thread is running a job's tasks (a worker, or a caller inside <see cref="Run"/>).
    /// NOTE: a task that starts a job of its own (a GEMM inside a convolution's task) runs it inline:
    /// the lock is re-entrant, and a nested job would otherwise replace the running job's task counter
    /// under its workers, and a worker would wait on the lock its caller holds.
    /// </summary>
    [ThreadStatic]
    private static bool insideJob;

    private WorkerPool()
    {
        // NOTE: an event allocates its lock object the first time a thread blocks on it (24 bytes), and
        // a thread allocates its wait structures the first time it blocks at all (64 bytes). Both are
        // made here and in WarmUpWaits, so a training step never allocates them, however late a worker is.
        lastOut.Wait(1);
    }

    /// <summary>Number of worker threads created so far (they live until the process ends).</summary>
    public int WorkerCount
    {
        get
        {
            lock (gate)
            {
                return workers.Count;
            }
        }
    }

    /// <summary>
    /// Runs tasks 0 … <paramref name="tasks"/> − 1 of <paramref name="job"/> on the calling thread and
    /// up to <paramref name="threads"/> − 1 workers, and returns when all are done. An exception from a
    /// task is rethrown here (after the other tasks finish).
    /// </summary>
    public void Run(IParallelJob job, int tasks, int threads)
    {
        var helpers = Math.Min(threads, tasks) - 1;
        if (helpers <= 0 || insideJob)
        {
            for (var t = 0; t < tasks; t++)
            {
                job.Execute(t);
            }
            return;
        }
        if (!waitsWarmed)
        {
            WarmUpWaits();
        }
        lock (gate)
        {
            while (workers.Count < helpers)
            {
                workers.Add(new Worker(this, workers.Count));
            }
            this.job = job;
            taskCount = tasks;
            failure = null;
            Volatile.Write(ref nextTask, 0);
            // Open: an odd generation, nobody inside (the previous job ended with everyone out).
            var open = generation + 1;
            Interlocked.Exchange(ref state, open << 32);
            for (var w = 0; w < helpers; w++)
            {
                workers[w].Wake();
            }
            try
            {
                insideJob = true;
                Work();
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
            }
            finally
            {
                insideJob = false;
            }
            // Close: the even generation after it, keeping the count of workers inside.
            long before;
            do
            {
                before = Volatile.Read(ref state);
            }
            while (Interlocked.CompareExchange(ref state, ((open + 1) << 32) | (before & InsideMask), before) != before);
            generation = open + 1;
            // Wait for the workers that joined (the count, not the event, decides: a late Set is harmless).
            var spin = new SpinWait();
            while ((Volatile.Read(ref state) & InsideMask) != 0)
            {
                if (!spin.NextSpinWillYield)
                {
                    spin.SpinOnce();
                }
                else
                {
                    lastOut.Wait();
                    lastOut.Reset();
                }
            }
            this.job = null;
            if (failure is { } e2)
            {
                failure = null;
                ExceptionDispatchInfo.Throw(e2);
            }
        }
    }

    /// <summary>Blocks this thread once, for a millisecond, on an event nobody sets: its wait structures now exist.</summary>
    private void WarmUpWaits()
    {
        waitsWarmed = true;
        neverSet.Wait(1);
    }

    /// <summary>Takes task numbers until none are left.</summary>
    private void Work()
    {
        var current = job!;
        var count = taskCount;
        int task;
        while ((task = Interlocked.Increment(ref nextTask) - 1) < count)
        {
            current.Execute(task);
        }
    }

    /// <summary>Enters the open job, if there is one; returns its generation, or 0.</summary>
    private long TryJoin()
    {
        while (true)
        {
            var s = Volatile.Read(ref state);
            var g = s >> 32;
            if ((g & 1) == 0)
            {
                return 0;
            }
            if (Interlocked.CompareExchange(ref state, s + 1, s) == s)
            {
                return g;
            }
        }
    }

    /// <summary>Leaves job <paramref name="joined"/>; the last one out of a closed job tells the caller.</summary>
    private void Leave(long joined)
    {
        var s = Interlocked.Decrement(ref state);
        if ((s & InsideMask) == 0 && (s >> 32) == joined + 1)
        {
            lastOut.Set();
        }
    }

    [SuppressMessage("Design", "CA1001", Justification = "Workers live as long as the process.")]
    private sealed class Worker
    {
        private readonly WorkerPool pool;
        private readonly ManualResetEventSlim signal = new(false);
        private int wake;

        public Worker(WorkerPool pool, int index)
        {
            this.pool = pool;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Backprop worker {index + 1}" };
            thread.Start();
        }

        /// <summary>Called by the pool with its lock held.</summary>
        public void Wake()
        {
            // The flag is written before the event is set, so a wake-up is never lost: a worker that
            // resets a stale event re-checks the flag before blocking again.
            Volatile.Write(ref wake, 1);
            signal.Set();
        }

        private void Loop()
        {
            insideJob = true;
            while (true)
            {
                var spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
                var spins = 0;
                while (Volatile.Read(ref wake) == 0)
                {
                    if (Stopwatch.GetTimestamp() < spinUntil)
                    {
                        // Spin briefly, then offer the core to any other thread that wants it (the
                        // caller itself, on a machine with fewer free cores than threads) between checks.
                        if (++spins < 64)
                        {
                            Thread.SpinWait(20);
                        }
                        else
                        {
                            Thread.Yield();
                        }
                    }
                    else
                    {
                        signal.Wait();
                        signal.Reset();
                    }
                }
                Volatile.Write(ref wake, 0);
                var joined = pool.TryJoin();
                if (joined == 0)
                {
                    continue; // woken too late: the job is over
                }
                try
                {
                    pool.Work();
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref pool.failure, e, null);
                }
                pool.Leave(joined);
            }
        }
    }
}
