using System.Runtime.InteropServices;

namespace Backprop.Serialization;

/// <summary>What is at a path: nothing, a regular file, a folder, or something else (a device, a pipe, a socket).</summary>
internal enum EntryKind
{
    Missing,
    Regular,
    Folder,
    Special,
}

/// <summary>
/// What a path names as the file system sees it (symbolic links followed): its kind, and an identity
/// that is the same for every path of one file (hard links, symbolic links, "a/../b", and the case
/// of names on file systems that ignore it).
/// </summary>
/// <remarks>
/// On Linux this asks the kernel (statx(2): file type, device and inode). Elsewhere it falls back to
/// what .NET can say: folders and files, and the full path with links resolved as identity.
/// </remarks>
internal static partial class FileSystemEntry
{
    /// <summary>An identity: the same for two paths exactly when they name the same file (or the same place for a new one).</summary>
    internal readonly record struct Identity(ulong Device, ulong Inode, string Name);

    private static bool statxWorks = OperatingSystem.IsLinux();

    /// <summary>The kind of entry at <paramref name="path"/>, following symbolic links.</summary>
    public static EntryKind Kind(string path) => Stat(path).Kind;

    /// <summary>
    /// Identifies <paramref name="path"/>: an existing entry by its device and inode; a missing one by
    /// its folder's identity and its name (compared as the platform's file systems usually compare names).
    /// </summary>
    public static Identity IdentityOf(string path)
    {
        var full = Path.GetFullPath(path);
        var (kind, device, inode) = Stat(full);
        if (kind != EntryKind.Missing && inode != 0)
        {
            return new Identity(device, inode, "");
        }
        var folder = Path.GetDirectoryName(full);
        var name = Path.GetFileName(full);
        // NOTE: Windows and macOS file systems ignore the case of names by default; Linux ones do not.
        var key = OperatingSystem.IsLinux() ? name : name.ToUpperInvariant();
        if (folder is not null)
        {
            var (folderKind, folderDevice, folderInode) = Stat(folder);
            if (folderKind == EntryKind.Folder && folderInode != 0)
            {
                return new Identity(folderDevice, folderInode, key);
            }
        }
        var resolved = Resolve(full);
        return new Identity(0, 0, OperatingSystem.IsLinux() ? resolved : resolved.ToUpperInvariant());
    }

    /// <summary>The file a path finally names: symbolic links followed to their last target (the path itself when it is no link).</summary>
    public static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            return File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target ? Path.GetFullPath(target.FullName) : full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return full;
        }
    }

    private static (EntryKind Kind, ulong Device, ulong Inode) Stat(string path)
    {
        if (statxWorks)
        {
            try
            {
                return StatLinux(path);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                statxWorks = false;
            }
        }
        return (Directory.Exists(path) ? EntryKind.Folder : File.Exists(path) ? EntryKind.Regular : EntryKind.Missing, 0, 0);
    }

    private static (EntryKind Kind, ulong Device, ulong Inode) StatLinux(string path)
    {
        // struct statx is laid out the same on every Linux architecture (linux/stat.h).
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxType | StatxIno, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return (EntryKind.Missing, 0, 0);
        }
        var mode = MemoryMarshal.Read<ushort>(buffer[28..]);
        var inode = MemoryMarshal.Read<ulong>(buffer[32..]);
        var device = ((ulong)MemoryMarshal.Read<uint>(buffer[136..]) << 32) | MemoryMarshal.Read<uint>(buffer[140..]);
        var kind = (mode & TypeMask) switch
        {
            RegularType => EntryKind.Regular,
            FolderType => EntryKind.Folder,
            _ => EntryKind.Special,
        };
        return (kind, device, inode);
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const int TypeMask = 0xF000;
    private const int RegularType = 0x8000;
    private const int FolderType = 0x4000;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);
}
