using Backprop.Distributed;
using Backprop.Serialization;

namespace Backprop.Cli;

/// <summary>
/// <c>train</c> on several processes (started by <c>mpirun</c>, or asked for with <c>--distributed</c>):
/// starts MPI and the run's <see cref="ProcessGroup"/> (which the run's spec carries: the library run does
/// the data-parallel training), reads the checkpoint to resume on rank 0 for every process, settles
/// rank 0's checks of its output files with the others, and watches for a process that dies. Only rank 0
/// prints and writes files (<see cref="Program"/> gives the other ranks no output at all).
/// </summary>
internal sealed class DistributedTraining : IDisposable
{
    private readonly MpiCommunicator communicator;
    private bool training;

    // Open MPI's, then MPICH's and Slurm's (PMI), then PMIx's.
    private static readonly string[] RankVariables = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"];

    private DistributedTraining(MpiCommunicator communicator)
    {
        this.communicator = communicator;
        Group = new ProcessGroup(communicator);
    }

    /// <summary>This process's rank as the MPI launcher set it, before MPI starts; null when not started by one.</summary>
    public static int? LauncherRank
        => RankVariables.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => v is not null) is { } text
            && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var rank) ? rank : null;

    /// <summary>Whether this process is one of a distributed run's other ranks: its output is dropped.</summary>
    public static bool IsOtherRank => LauncherRank is > 0;

    /// <summary>
    /// Starts MPI when this process was started by mpirun (or <paramref name="requested"/> says so); null
    /// for a run on one process.
    /// </summary>
    /// <exception cref="BackpropException">--distributed was given but no launcher started this process.</exception>
    public static DistributedTraining? Start(bool requested)
    {
        if (!MpiCommunicator.StartedByLauncher)
        {
            return requested ? throw new BackpropException("--distributed trains on several processes started by mpirun: mpirun -np 2 backprop train … --distributed") : null;
        }
        var training = new DistributedTraining(MpiCommunicator.Start());
        training.communicator.WatchPeers(TimeSpan.FromMilliseconds(500), training.PeerLost);
        return training;
    }

    /// <summary>The processes training together: what the run's spec carries (<see cref="Runs.RunSpec.Distributed"/>).</summary>
    public ProcessGroup Group { get; }

    /// <summary>Rank 0: the process that prints and writes.</summary>
    public bool IsRoot => communicator.Rank == 0;

    /// <summary>The last checkpoint, for the message when a process dies.</summary>
    public string? CheckpointFile { get; set; }

    /// <summary>Rank 0 reads the checkpoint and every process receives its bytes: the run resumes from rank 0's file.</summary>
    /// <exception cref="BackpropException">Rank 0 could not read it (every process stops with rank 0's message).</exception>
    public Checkpoint LoadCheckpoint(string file)
    {
        byte[] bytes = [];
        string? error = null;
        if (IsRoot)
        {
            try
            {
                bytes = Serialization.CheckpointFile.ToBytes(Checkpoint.Load(file));
            }
            catch (BackpropException e)
            {
                error = e.Message;
            }
        }
        // The error (if any) travels as well, so that every process stops with rank 0's message.
        var message = System.Text.Encoding.UTF8.GetString(Group.Broadcast(System.Text.Encoding.UTF8.GetBytes(error ?? "")));
        if (message.Length > 0)
        {
            throw new BackpropException(message);
        }
        return Serialization.CheckpointFile.FromBytes(Group.Broadcast(bytes), file);
    }

    /// <summary>
    /// Runs <paramref name="check"/> (checks of the files rank 0 will write) on rank 0 only, then tells
    /// every process whether it failed: then every process stops (rank 0 with the check's message), rather
    /// than the others waiting for a rank 0 that has gone.
    /// </summary>
    /// <exception cref="BackpropException">The check failed on rank 0.</exception>
    public void OnRoot(Action check)
    {
        ArgumentNullException.ThrowIfNull(check);
        BackpropException? failure = null;
        if (IsRoot)
        {
            try
            {
                check();
            }
            catch (BackpropException e)
            {
                failure = e;
            }
        }
        if (Group.Max(failure is null ? 0 : 1) > 0)
        {
            throw failure ?? new BackpropException("rank 0 refused the run (its message is on rank 0's standard error).");
        }
    }

    /// <summary>
    /// Runs the training, in which every process makes the same collective calls. A failure here may be this
    /// process's alone (e.g. rank 0 cannot write a checkpoint): the process then ends without finalising
    /// MPI, which would wait for the others while they wait for it; they notice it has gone (the watchdog,
    /// or mpirun) and stop.
    /// </summary>
    public T Train<T>(Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        training = true;
        var result = body();
        training = false;
        return result;
    }

    private void PeerLost(int rank, int pid)
    {
        // One line from the lowest surviving process on this machine (rank 0 unless it is the one that
        // died), on the process's own standard error: the other ranks' command output is dropped.
        if (communicator.LocalPeersAlive().All(r => r > communicator.Rank))
        {
            var checkpoint = CheckpointFile is { } file && File.Exists(file) ? $"; the last checkpoint, {file}, is intact" : "";
            var stderr = Console.Error;
            stderr.WriteLine($"backprop: process {rank} of the {communicator.Size} training together (pid {pid}) ended during training; the others stop too, without writing anything{checkpoint}");
            stderr.Flush();
        }
        Environment.Exit(BackpropCli.InternalError);
    }

    public void Dispose()
    {
        if (!training)
        {
            communicator.Dispose();
        }
    }
}
