namespace Backprop.Serialization;

/// <summary>
/// The files one command reads and writes, declared before anything is computed: two outputs on the
/// same file, or an output on an input, are refused at once with one line, rather than one silently
/// replacing the other after the work is done.
/// </summary>
/// <remarks>
/// "The same file" is decided as the file system decides it: links followed, <c>a/../b</c> resolved,
/// hard links recognised, and names compared as the platform's file systems compare them (see
/// <see cref="AtomicFileSet"/>, which refuses the same within one set of files).
/// </remarks>
public sealed class OutputPlan
{
    private readonly List<(FileSystemEntry.Identity Identity, string Path, string Label, bool Input)> files = [];

    /// <summary>Declares a file the command reads; no output may replace it.</summary>
    /// <param name="path">The file.</param>
    /// <param name="label">How the user named it, for messages: an option such as <c>--data</c>.</param>
    public void Input(string path, string label)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(label);
        if (TryIdentify(path) is { } identity)
        {
            files.Add((identity, path, label, true));
        }
    }

    /// <summary>Declares a file the command writes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="label">How the user named it, for messages: an option such as <c>--out</c>.</param>
    /// <param name="replaces">The label of the one input it may replace (a checkpoint that continues the run it was read from), or null.</param>
    /// <exception cref="BackpropException">Another output, or an input, is the same file.</exception>
    /// <remarks>Devices and pipes (<c>/dev/null</c>) may take any number of outputs: they are written into, not replaced.</remarks>
    public void Output(string path, string label, string? replaces = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(label);
        if (TryIdentify(path) is not { } identity || FileSystemEntry.Kind(path) == EntryKind.Special)
        {
            return;
        }
        foreach (var other in files)
        {
            if (other.Identity != identity || (other.Input && other.Label == replaces))
            {
                continue;
            }
            throw new BackpropException(other.Input
                ? $"{label} {path} is the same file as {other.Label} {other.Path}: an output must not replace an input."
                : $"{label} {path} is the same file as {other.Label} {other.Path}: each output needs a file of its own.");
        }
        files.Add((identity, path, label, false));
    }

    // Paths that cannot be resolved are left to the reader or writer, which says why in its own words.
    private static FileSystemEntry.Identity? TryIdentify(string path)
    {
        try
        {
            return path.Length == 0 ? null : FileSystemEntry.IdentityOf(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
