namespace Backprop.Serialization;

/// <summary>
/// Writes files so that readers see either the old file or the complete new one, never half of it:
/// the bytes go to a temporary file in the same folder, are flushed to disk, then the temporary file
/// is renamed over the target.
/// </summary>
/// <remarks>
/// Model files, checkpoints, ONNX exports, pictures, reports and graphs are all written this way.
/// To replace several files together (a run's model, pictures and report), stage them in one
/// <see cref="AtomicFileSet"/> and commit it once everything is ready. A symbolic link is followed
/// (the file it names is replaced, the link stays); a device or pipe (<c>/dev/null</c>,
/// <c>/dev/stdout</c>) is written to, never replaced.
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

    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/> atomically only if nothing is there
    /// yet: the name is claimed with an exclusive create, so two writers can never both take it.
    /// </summary>
    /// <returns>False when something already exists at <paramref name="path"/> (it is left as it was).</returns>
    /// <exception cref="BackpropException">The folder is missing or the file cannot be written.</exception>
    public static bool CreateOnce(string path, string what, byte[] contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        using var files = new AtomicFileSet();
        files.Stage(path, what, s => s.Write(contents));
        return files.CommitIfAbsent();
    }
}

/// <summary>
/// Files replaced together: each <see cref="Stage(string, string, Action{Stream})"/> writes a
/// temporary file beside its target and flushes it to disk; <see cref="Commit"/> then renames them
/// all over their targets. Disposing without committing deletes the temporary files and leaves every
/// target as it was — so a run that fails half-way leaves no partial outputs.
/// </summary>
/// <remarks>
/// Two targets of one set that are the same file (by any path: links, <c>a/../b</c>) are refused,
/// since one would silently replace the other.
/// </remarks>
public sealed class AtomicFileSet : IDisposable
{
    private readonly List<(string Temp, string Target, string Path, string What, bool Special)> staged = [];
    private readonly List<(FileSystemEntry.Identity Identity, string Path, string What)> claimed = [];

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
        var (full, special) = Target(path, what);
        var identity = FileSystemEntry.IdentityOf(full);
        if (!special && claimed.FirstOrDefault(c => c.Identity == identity) is { Path: { } other } earlier)
        {
            throw new BackpropException($"{path}: cannot write the {what}: it is the same file as the {earlier.What} ({other}); each output needs a file of its own.");
        }
        // NOTE: same folder as the target, so that the rename stays on one file system and is atomic.
        // A device is written in place at Commit; its bytes wait in the temporary folder (/dev is not ours to write in).
        var temp = Path.Combine(special ? Path.GetTempPath() : Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            // Whoever wrote the file, its bytes reach the disk before the rename makes it visible.
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                stream.Flush(flushToDisk: true);
            }
            staged.Add((temp, full, path, what, special));
            claimed.Add((identity, path, what));
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
            var (temp, target, path, what, special) = staged[0];
            try
            {
                if (special)
                {
                    CopyInto(temp, target);
                    TryDelete(temp);
                }
                else
                {
                    File.Move(temp, target, overwrite: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BackpropException($"{path}: cannot write the {what}: {e.Message}", e);
            }
            staged.RemoveAt(0);
        }
    }

    /// <summary>
    /// Commits the one staged file only if its target does not exist: the name is claimed first with an
    /// exclusive create (atomic: of two writers, one wins), then the staged file is renamed over it.
    /// </summary>
    /// <returns>False, with nothing written, when the target already exists.</returns>
    internal bool CommitIfAbsent()
    {
        if (staged is not [{ Special: false } file])
        {
            throw new InvalidOperationException("CommitIfAbsent commits exactly one staged regular file.");
        }
        try
        {
            using (new FileStream(file.Target, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }
        }
        catch (IOException) when (File.Exists(file.Target) || Directory.Exists(file.Target))
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"{file.Path}: cannot write the {file.What}: {e.Message}", e);
        }
        Commit();
        return true;
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

    // The file to replace (links followed), and whether it is a device or pipe to write into instead.
    private static (string Full, bool Special) Target(string path, string what)
    {
        string given, full;
        try
        {
            given = Path.GetFullPath(path);
            full = FileSystemEntry.Resolve(given);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new BackpropException($"{path}: cannot write the {what}: {e.Message}", e);
        }
        // NOTE: /dev and /proc hold devices and the process's own files (/dev/stdout is a link to
        // /proc/self/fd/1, which may name a pipe, a terminal or the file the shell redirected to):
        // writing there means writing into them, through the path as given, never renaming over them.
        if (!OperatingSystem.IsWindows() && (IsUnder(given, "/dev/") || IsUnder(given, "/proc/")) && FileSystemEntry.Kind(given) is EntryKind.Regular or EntryKind.Special)
        {
            return (given, true);
        }
        var folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new BackpropException($"{path}: cannot write the {what}: the folder {folder} does not exist.");
        }
        var kind = FileSystemEntry.Kind(full);
        if (kind == EntryKind.Folder)
        {
            throw new BackpropException($"{path}: cannot write the {what}: it is a folder.");
        }
        return (full, kind == EntryKind.Special);
    }

    private static bool IsUnder(string path, string folder) => path.StartsWith(folder, StringComparison.Ordinal);

    private static void CopyInto(string temp, string target)
    {
        using var source = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.None);
        using var device = new FileStream(target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        source.CopyTo(device);
        device.Flush();
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
