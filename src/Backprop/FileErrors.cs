namespace Backprop;

/// <summary>The one-line messages for files that cannot be opened, shared by the readers.</summary>
internal static class FileErrors
{
    /// <summary>"PATH: cannot read the WHAT: why", with a folder named as one (the system says "access denied").</summary>
    public static BackpropException CannotRead(string path, string what, Exception e)
        => new(Directory.Exists(path)
            ? $"{path}: cannot read the {what}: it is a folder, not a file."
            : $"{path}: cannot read the {what}: {e.Message.ReplaceLineEndings(" ")}", e);
}
