namespace Backprop.Serialization;

/// <summary>
/// Writes files so that readers see either the old file or the complete new one, never half of it:
/// the bytes go to a temporary file in the same folder, are flushed to disk, then the temporary file
/// is renamed over the target.
/// </summary>
/// <remarks>
/// Model files, checkpoints, ONNX exports, pictures, reports and graphs are all written this way.
/// To replace several files together (a run's model, pictures and report), stage them in one
/// <see cref="AtomicFileSet"/> and commit it once everything is ready.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="write"/>'s output to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="what">What is written, for messages (e.g. "model").</param>
    /// <param name="write">Writes the whole contents to the stream.</param>
    /// <exception cref="BackpropException">The folder is missing or the file cannot be written; the target is left as it was.</exception>
    public static void Write(string path, string what, Action<Stream> write)
    {
        using var files = new AtomicFileSet();
        files.Stage(path, what, write);
        files.Commit();
    }

    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="BackpropException">The folder is missing or the file cannot be written; the target is left as it was.</exception>
    public static void Write(string path, string what, byte[] contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Write(path, what, s => s.Write(contents));
    }
}

/// <summary>
/// Files replaced together: each <see cref="Stage(string, string, Action{Stream})"/> writes a
/// temporary file beside its target and flushes it to disk; <see cref="Commit"/> then renames them
/// all over their targets. Disposing without committing deletes the temporary files and leaves every
/// target as it was — so a run that fails half-way leaves no partial outputs.
/// </summary>
public sealed class AtomicFileSet : IDisposable
{
    private readonly List<(string Temp, string Target, string Path, string What)> staged = [];

    /// <summary>The targets staged so far, as given.</summary>
    public IReadOnlyList<string> Targets => [.. staged.Select(s => s.Path)];

    /// <summary>Writes <paramref name="write"/>'s output to a flushed temporary file beside <paramref name="path"/>.</summary>
    /// <exception cref="BackpropException">The folder is missing or the file cannot be written.</exception>
    public void Stage(string path, string what, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        StageFile(path, what, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            write(stream);
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>
    /// Lets <paramref name="write"/> create the temporary file beside <paramref name="path"/> by its
    /// name (for programs that write files themselves), then flushes it to disk.
    /// </summary>
    /// <exception cref="BackpropException">The folder is missing or the file cannot be written.</exception>
    public void StageFile(string path, string what, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Target(path, what);
        // NOTE: same folder as the target, so that the rename stays on one file system and is atomic.
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            // Whoever wrote the file, its bytes reach the disk before the rename makes it visible.
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                stream.Flush(flushToDisk: true);
            }
            staged.Add((temp, full, path, what));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new BackpropException($"{path}: cannot write the {what}: {e.Message}", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Renames every staged file over its target, in the order staged.</summary>
    /// <exception cref="BackpropException">A rename failed; the files not yet renamed are left as they were.</exception>
    public void Commit()
    {
        while (staged.Count > 0)
        {
            var (temp, target, path, what) = staged[0];
            try
            {
                File.Move(temp, target, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BackpropException($"{path}: cannot write the {what}: {e.Message}", e);
            }
            staged.RemoveAt(0);
        }
    }

    /// <summary>Deletes the temporary files of anything staged and not committed.</summary>
    public void Dispose()
    {
        foreach (var s in staged)
        {
            TryDelete(s.Temp);
        }
        staged.Clear();
    }

    private static string Target(string path, string what)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new BackpropException($"{path}: cannot write the {what}: {e.Message}", e);
        }
        var folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new BackpropException($"{path}: cannot write the {what}: the folder {folder} does not exist.");
        }
        if (Directory.Exists(full))
        {
            throw new BackpropException($"{path}: cannot write the {what}: it is a folder.");
        }
        return full;
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is left behind; the target is untouched either way.
        }
    }
}
