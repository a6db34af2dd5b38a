namespace Backprop.Serialization;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never half of it:
/// the bytes go to a temporary file in the same folder, are flushed to disk, then the temporary file
/// is renamed over the target.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="write"/>'s output to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="what">What is written, for messages (e.g. "model").</param>
    /// <param name="write">Writes the whole contents to the stream.</param>
    /// <exception cref="BackpropException">The folder is missing or the file cannot be written; the target is left as it was.</exception>
    public static void Write(string path, string what, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
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
        // NOTE: same folder as the target, so that the rename stays on one file system and is atomic.
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"{path}: cannot write the {what}: {e.Message}", e);
        }
        finally
        {
            TryDelete(temp);
        }
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
