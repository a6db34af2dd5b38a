using Backprop.Serialization;
using Backprop.Tests.Cli;

namespace Backprop.Tests.Serialization;

/// <summary>Files are replaced whole or not at all, alone or several together, even when the writer is killed.</summary>
public sealed class AtomicFileTests
{
    private static string[] Leftovers(string folder) => [.. Directory.GetFiles(folder, ".*.tmp").Select(Path.GetFileName)!];

    [Fact]
    public void A_write_replaces_the_file_and_leaves_no_temporary_file()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "old");

        AtomicFile.Write(folder.File("a.txt"), "text", "new"u8.ToArray());

        Assert.Equal("new", File.ReadAllText(folder.File("a.txt")));
        Assert.Empty(Leftovers(folder.Path));
    }

    [Fact]
    public void A_writer_that_fails_leaves_the_old_file_and_no_temporary_file()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(folder.File("a.txt"), "text", s =>
        {
            s.Write("half"u8);
            throw new InvalidOperationException("the writer failed");
        }));

        Assert.Equal("old", File.ReadAllText(folder.File("a.txt")));
        Assert.Empty(Leftovers(folder.Path));
    }

    [Fact]
    public void Staged_files_appear_only_on_commit_and_vanish_without_it()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "old a");
        using (var files = new AtomicFileSet())
        {
            files.Stage(folder.File("a.txt"), "text", s => s.Write("new a"u8));
            files.Stage(folder.File("b.txt"), "text", s => s.Write("new b"u8));
            Assert.Equal("old a", File.ReadAllText(folder.File("a.txt")));
            Assert.False(File.Exists(folder.File("b.txt")));
            Assert.Equal(2, Leftovers(folder.Path).Length);
            // A third output fails: the run fails, and the first two are never put in place.
            Assert.Throws<BackpropException>(() => files.Stage(folder.File("missing/c.txt"), "text", s => s.Write("c"u8)));
        }

        Assert.Equal("old a", File.ReadAllText(folder.File("a.txt")));
        Assert.False(File.Exists(folder.File("b.txt")));
        Assert.Empty(Leftovers(folder.Path));

        using (var files = new AtomicFileSet())
        {
            files.Stage(folder.File("a.txt"), "text", s => s.Write("new a"u8));
            files.Stage(folder.File("b.txt"), "text", s => s.Write("new b"u8));
            files.Commit();
        }
        Assert.Equal("new a", File.ReadAllText(folder.File("a.txt")));
        Assert.Equal("new b", File.ReadAllText(folder.File("b.txt")));
        Assert.Empty(Leftovers(folder.Path));
    }

    [Fact]
    public void A_missing_folder_or_a_folder_as_target_is_one_line()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("dir"));

        var missing = Assert.Throws<BackpropException>(() => AtomicFile.Write(folder.File("nope/m.bpm"), "model", [1]));
        var isFolder = Assert.Throws<BackpropException>(() => AtomicFile.Write(folder.File("dir"), "model", [1]));

        Assert.Equal($"{folder.File("nope/m.bpm")}: cannot write the model: the folder {folder.File("nope")} does not exist.", missing.Message);
        Assert.Equal($"{folder.File("dir")}: cannot write the model: it is a folder.", isFolder.Message);
    }

    [Fact]
    public async Task A_process_killed_while_saving_never_leaves_a_partial_file()
    {
        // The real command saves a checkpoint of about 24 MB (a million parameters and Adam's two
        // moments) after every step, each time over the one before, and is killed (SIGKILL): in even
        // rounds while it writes a new file (within a few milliseconds of starting it), in odd rounds at any moment.
        // Each time, the file there must load and verify.
        using var folder = new TempFolder();
        var target = folder.File("big.ckpt");
        var random = new Random(8);
        var killedMidWrite = 0;
        for (var round = 0; round < 6; round++)
        {
            var before = File.Exists(target) ? File.GetLastWriteTimeUtc(target) : DateTime.MinValue;
            using var child = CliProcess.Start(folder.Path, "train", "--layers", "1,1000,1000,1", "--optimizer", "adam", "--lr", "0.001",
                "--max-steps", "100000", "--min-step", "0", "--checkpoint", target, "--checkpoint-every", "1", "--quiet");
            // Wait until this child has replaced the file at least once: the file is an old one from now on.
            await child.WaitUntilAsync(() => File.Exists(target) && File.GetLastWriteTimeUtc(target) != before, TimeSpan.FromMinutes(5));
            if (round % 2 == 0)
            {
                // Freeze it (SIGSTOP) a moment after a new file is started; if that write is still under
                // way (its temporary file is there), kill it so; otherwise let it go on and try again.
                // However fast or slow the machine writes, this kill lands mid-write.
                while (true)
                {
                    await child.WaitUntilAsync(() => Leftovers(folder.Path).Length > 0, TimeSpan.FromMinutes(5), poll: TimeSpan.FromMilliseconds(1));
                    Thread.Sleep(random.Next(0, 10));
                    child.Freeze();
                    if (Leftovers(folder.Path).Length > 0)
                    {
                        break;
                    }
                    child.Signal("CONT");
                }
            }
            else
            {
                await Task.Delay(random.Next(0, 1500));
            }
            child.Kill();
            var leftovers = Leftovers(folder.Path);
            if (leftovers.Length > 0)
            {
                killedMidWrite++;
            }

            var checkpoint = Checkpoint.Load(target); // checks the size of every array and the SHA-256
            Assert.True(checkpoint.Steps >= 1);
            Assert.Equal(["big.ckpt"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Where(n => !n!.EndsWith(".tmp", StringComparison.Ordinal)));
            foreach (var file in leftovers)
            {
                File.Delete(Path.Combine(folder.Path, file));
            }
        }
        // The kills did land while a new file was being written (its temporary file was left behind).
        Assert.True(killedMidWrite > 0, "no kill landed during a save; the test proved nothing");
    }

    [Fact]
    public async Task A_process_killed_while_saving_a_model_leaves_the_old_model_intact()
    {
        // An 8 MB model is there; the real command trains a new one of the same size and is killed
        // (SIGKILL) within a few milliseconds of starting to write it over the old one.
        using var folder = new TempFolder();
        var target = folder.File("big.bpm");
        var old = new Model<double>(Backprop.Nn.Sequential<double>.Mlp([1, 1000, 1000, 1], Backprop.Nn.Activation.Tanh));
        old.Save(target);
        var oldBytes = File.ReadAllBytes(target);
        var random = new Random(9);
        for (var round = 0; round < 4; round++)
        {
            using var child = CliProcess.Start(folder.Path, "train", "--layers", "1,1000,1000,1", "--activation", "tanh", "--max-steps", "0",
                "--seed", (round + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", target, "--json");
            await child.WaitUntilAsync(() => Leftovers(folder.Path).Length > 0, TimeSpan.FromMinutes(5), poll: TimeSpan.FromMilliseconds(1));
            Thread.Sleep(random.Next(0, 10));
            child.Kill();

            var loaded = Model<double>.Load(target); // the old model, or a new one complete and verified
            Assert.Equal(1_004_001, loaded.Network.ParameterCount());
            var bytes = File.ReadAllBytes(target);
            Assert.True(bytes.AsSpan().SequenceEqual(oldBytes) || loaded.Metadata.Seed == (ulong)(round + 1));
            foreach (var file in Leftovers(folder.Path))
            {
                File.Delete(Path.Combine(folder.Path, file));
            }
            oldBytes = bytes;
        }
    }
}
