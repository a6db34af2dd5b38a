using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Backprop.Optim;
using Backprop.Runs;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>train</c>'s options for checkpoints: <c>--resume FILE</c>, <c>--checkpoint FILE</c> and
/// <c>--checkpoint-every N</c>; and what a run records so that <c>--resume</c> needs nothing else.
/// </summary>
internal sealed class CheckpointOptions
{
    /// <summary>The file a run checkpoints to when neither <c>--checkpoint</c> nor <c>--out</c> says otherwise.</summary>
    public const string DefaultFile = "backprop.ckpt";

    private readonly Option<string?> resume = new("--resume") { Description = "Continue the run saved in this checkpoint, with the options it was started with (only --out, --checkpoint, --checkpoint-every, --json, --quiet, --log and --log-every may be given)", HelpName = "CHECKPOINT", CustomParser = ModelOptions.FileName };
    private readonly Option<string?> checkpoint = new("--checkpoint") { Description = $"Where to save checkpoints: when interrupted (Ctrl-C, SIGTERM) and with --checkpoint-every (default: the --out file with .ckpt added, or {DefaultFile}; with --resume, the resumed file)", HelpName = "FILE", CustomParser = ModelOptions.FileName };
    private readonly Option<int?> every = new("--checkpoint-every") { Description = "Also save a checkpoint every N steps", HelpName = "N", CustomParser = r => RunOptions.ParseNumber<int>(r, NumberStyles.Integer, "a whole number") };

    public IEnumerable<Option> Options => [resume, checkpoint, every];

    /// <summary>Reads the checkpoint to resume (a distributed run: rank 0 reads it and every process receives it).</summary>
    public Func<string, Checkpoint> Loader { get; set; } = Checkpoint.Load;

    /// <summary>The options <c>--resume</c> may be given with: they change where results go, not the numbers.</summary>
    public static readonly string[] AllowedWithResume = ["--out", "--checkpoint", "--checkpoint-every", "--json", "--quiet", "--distributed", "--log", "--log-every"];

    // Not kept in a checkpoint: they name checkpoints, or only show the run (pictures, a report and
    // gradient health cover one uninterrupted run). --log is kept: a resumed run appends to its log.
    private static readonly string[] NotRecorded = ["--resume", "--checkpoint", "--json", "--quiet", "--plot", "--report", "--monitor", "--distributed"];

    /// <summary>The checkpoint to resume from, or null; its options replace the command line's (all but <see cref="AllowedWithResume"/>).</summary>
    /// <exception cref="BackpropException">Other options were given with --resume, or the checkpoint is unreadable or corrupt.</exception>
    public (Checkpoint Checkpoint, string File, string[] Args)? ReadResume(ParseResult parsed)
    {
        if (parsed.GetValue(resume) is not { } file)
        {
            return null;
        }
        var given = Given(parsed).Where(g => g.Name != "--resume").ToList();
        if (given.FirstOrDefault(g => !AllowedWithResume.Contains(g.Name)) is { Name: { } bad })
        {
            throw new BackpropException($"{bad} cannot be given with --resume: the run continues with the options it was started with (only {string.Join(", ", AllowedWithResume)} may be given).");
        }
        var saved = Loader(file);
        // A run never records these (see NotRecorded): a stored command that has one was not written by a run.
        if (saved.Command.FirstOrDefault(a => NotRecorded.Contains(a)) is { } stored)
        {
            throw new BackpropException($"{file}: invalid checkpoint: its stored options include {stored}, which a resumed run cannot take; the checkpoint was edited.");
        }
        var names = given.Select(g => g.Name).ToHashSet();
        var args = new List<string>();
        // The stored options, one group per option; those given now replace them (--out, --checkpoint-every).
        var groups = new List<List<string>>();
        foreach (var arg in saved.Command)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal) || groups.Count == 0)
            {
                groups.Add([arg]);
            }
            else
            {
                groups[^1].Add(arg);
            }
        }
        foreach (var group in groups.Where(g => !names.Contains(g[0])))
        {
            args.AddRange(group);
        }
        foreach (var (name, values) in given)
        {
            args.Add(name);
            args.AddRange(values);
        }
        return (saved, file, [.. args]);
    }

    /// <summary>The run's checkpoint plan: where, how often, and what to record.</summary>
    /// <remarks>With <paramref name="writes"/> false (a distributed run, until rank 0 has checked) nothing is saved, and the folder is not checked.</remarks>
    /// <exception cref="BackpropException">--checkpoint-every is not positive, or the checkpoint's folder does not exist.</exception>
    public CheckpointPlan Plan(ParseResult parsed, RunSpec spec, string? modelFile, (Checkpoint Checkpoint, string File, string[] Args)? resumed, Interruption interruption, bool writes = true)
    {
        var n = parsed.GetValue(every);
        if (n is <= 0)
        {
            throw new BackpropException($"--checkpoint-every must be a positive number of steps; got {n}.");
        }
        var path = parsed.GetValue(checkpoint) ?? resumed?.File ?? (modelFile is not null ? modelFile + ".ckpt" : DefaultFile);
        if (resumed is { Checkpoint: var c, File: var f })
        {
            var type = spec.Precision == Precision.Float ? "float32" : "float64";
            if (c.ElementType != type)
            {
                throw new BackpropException($"{f}: invalid checkpoint: it holds {c.ElementType} numbers but its options train in {type}.");
            }
            // The stored options must build the network and optimizer whose state the checkpoint holds.
            var layers = spec.Network.Layers;
            int[] sizes = spec.Network.Net is null ? [.. layers.Zip(layers.Skip(1)).SelectMany(l => new[] { l.First * l.Second, l.Second })]
                : [.. spec.Network.Build<float>().Parameters().Select(p => p.Length)];
            if (!sizes.SequenceEqual(c.ParameterSizes))
            {
                throw new BackpropException($"{f}: invalid checkpoint: its stored options build a {(spec.Network.Net is { } net ? $"'{net}'" : string.Join('-', layers))} network of {sizes.Sum()} numbers but it holds {c.ParameterSizes.Sum()} in {c.ParameterSizes.Count} parameters; the options were edited.");
            }
            var optimizer = spec.Optimizer.Create<double>([], 1).Name;
            if (c.OptimizerName != optimizer)
            {
                throw new BackpropException($"{f}: invalid checkpoint: it holds {c.OptimizerName}'s state but its stored options train with {optimizer}; the options were edited.");
            }
            if (spec.Patience is not null && !c.MonitorNames.Contains("earlyStopping"))
            {
                throw new BackpropException($"{f}: this checkpoint holds no early-stopping state (checkpoints of format version 1 did not keep it), so its --patience run cannot continue exactly; start the run again.");
            }
            if (c.DataFingerprint is { } saved && saved != DataFingerprint.Of(spec.Data.Train))
            {
                throw new BackpropException($"{f}: the training data is not the data this checkpoint was trained on (its fingerprint differs): the data file changed since, or the checkpoint's stored options were edited.");
            }
        }
        // A default name is the run's only once it has written it: another run may have left a checkpoint there.
        var isDefault = parsed.GetValue(checkpoint) is null && resumed is null;
        var plan = new CheckpointPlan(path, n, Recorded(parsed), spec, interruption, resumed?.Checkpoint) { ClaimFirst = isDefault, Writes = writes };
        if (writes)
        {
            plan.CheckFolder();
        }
        return plan;
    }

    // The options as given, with file names made absolute so that a resume from another folder finds them.
    private static List<string> Recorded(ParseResult parsed)
    {
        var args = new List<string>();
        foreach (var (name, values) in Given(parsed))
        {
            if (NotRecorded.Contains(name))
            {
                continue;
            }
            args.Add(name);
            var isFile = name is "--data" or "--out" or "--test" or "--log"
                || (name == "--dataset" && values.Count == 1 && !DataOptions.IsFashionMnist(values[0]) && !string.Equals(values[0].Trim(), "dosage", StringComparison.OrdinalIgnoreCase));
            args.AddRange(isFile ? values.Select(Path.GetFullPath) : values);
        }
        return args;
    }

    private static IEnumerable<(string Name, List<string> Values)> Given(ParseResult parsed)
        => parsed.CommandResult.Children.OfType<OptionResult>()
            .Where(o => !o.Implicit)
            .Select(o => (o.Option.Name, o.Tokens.Select(t => t.Value).ToList()));
}

/// <summary>
/// Where and how often a run saves checkpoints, what it records in them, and the checkpoint it
/// resumes; it attaches a <see cref="CheckpointMonitor{T}"/> to the run.
/// </summary>
internal sealed class CheckpointPlan(string path, int? every, IReadOnlyList<string> command, RunSpec spec, Interruption interruption, Checkpoint? resume) : IRunMonitorFactory
{
    private string? fingerprint = resume?.DataFingerprint;
    private string path = path;

    /// <summary>The checkpoint file (after the first save, the one this run wrote).</summary>
    public string Path => path;

    /// <summary>
    /// Whether the first save must create a new file rather than replace one: a default name
    /// (<c>backprop.ckpt</c>) may hold another run's checkpoint, which is then kept and this run's goes
    /// to <c>backprop.2.ckpt</c> (or the next free number).
    /// </summary>
    public bool ClaimFirst { get; set; }

    /// <summary>Whether this process saves (false on a distributed run's other processes: only rank 0 writes).</summary>
    public bool Writes { get; set; } = true;

    /// <exception cref="BackpropException">The checkpoint's folder does not exist.</exception>
    public void CheckFolder()
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new BackpropException($"{path}: cannot write the checkpoint: the folder {folder} does not exist.");
        }
    }

    /// <summary>Save every this many steps; null for only when interrupted.</summary>
    public int? Every => every;

    /// <summary>Signals asking the run to stop.</summary>
    public Interruption Interruption => interruption;

    /// <summary>The state to resume from (a <see cref="TrainingState{T}"/>), or null for a fresh run.</summary>
    public object? ResumeState => (object?)(resume as Checkpoint<double>)?.State ?? (resume as Checkpoint<float>)?.State;

    /// <summary>Saves checkpoints of the run every <see cref="Every"/> steps and when it is interrupted.</summary>
    public TrainingMonitor<T> Create<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T> => new CheckpointMonitor<T>(this);

    /// <summary>Saves <paramref name="trainer"/>'s state, with the run's options and data fingerprint, atomically.</summary>
    public void Save<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Writes)
        {
            return;
        }
        fingerprint ??= DataFingerprint.Of(spec.Data.Train);
        var checkpoint = new Checkpoint<T>(trainer.CaptureState(), command, fingerprint);
        if (!ClaimFirst)
        {
            checkpoint.Save(path);
            return;
        }
        var bytes = CheckpointFile.ToBytes(checkpoint);
        for (var n = 1; ; n++)
        {
            // backprop.ckpt, backprop.2.ckpt, backprop.3.ckpt, …: created, never replaced, so two runs never share one.
            var candidate = n == 1 ? path : System.IO.Path.ChangeExtension(path, null) + $".{n}" + System.IO.Path.GetExtension(path);
            if (AtomicFile.CreateOnce(candidate, "checkpoint", bytes))
            {
                (path, ClaimFirst) = (candidate, false);
                return;
            }
            if (n == 1000)
            {
                throw new BackpropException($"{path}: cannot write the checkpoint: it and the next 999 numbered names hold other runs' files; give --checkpoint FILE.");
            }
        }
    }

    /// <summary>The one line printed when the run was interrupted.</summary>
    public string InterruptedLine(int steps)
        => $"interrupted at step {steps}; checkpoint saved to {path}; resume with: backprop train --resume {(path.Contains(' ', StringComparison.Ordinal) ? $"'{path}'" : path)}";
}
