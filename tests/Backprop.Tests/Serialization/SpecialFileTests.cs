using Backprop.Serialization;

namespace Backprop.Tests.Serialization;

/// <summary>
/// Devices, pipes and links are written through, never replaced; two outputs on one file (by any
/// path) are refused before anything is written; a name claimed once is never taken twice.
/// </summary>
public sealed class SpecialFileTests
{
    [Fact]
    public void Dev_null_is_written_into_and_stays_a_device()
    {
        if (!(OperatingSystem.IsLinux()))
        {
            return; // Linux only
        }

        AtomicFile.Write("/dev/null", "model", "bytes"u8.ToArray());

        Assert.Equal(EntryKind.Special, FileSystemEntry.Kind("/dev/null"));
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), ".null.*.tmp"));
    }

    [Fact]
    public void Dev_full_is_a_one_line_error_and_stays_a_device()
    {
        if (!(OperatingSystem.IsLinux() && File.Exists("/dev/full")))
        {
            return; // Linux only
        }

        var error = Assert.Throws<BackpropException>(() => AtomicFile.Write("/dev/full", "model", new byte[100_000]));

        Assert.StartsWith("/dev/full: cannot write the model: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(EntryKind.Special, FileSystemEntry.Kind("/dev/full"));
    }

    [Fact]
    public async Task A_named_pipe_is_written_into_not_replaced()
    {
        if (!(OperatingSystem.IsLinux()))
        {
            return; // Linux only
        }
        using var folder = new TempFolder();
        var pipe = folder.File("pipe");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [pipe]))
        {
            mkfifo.WaitForExit();
        }
        var reading = Task.Run(() => File.ReadAllText(pipe));

        AtomicFile.Write(pipe, "graph", "through the pipe"u8.ToArray());

        Assert.Equal("through the pipe", await reading.WaitAsync(TimeSpan.FromMinutes(5)));
        Assert.Equal(EntryKind.Special, FileSystemEntry.Kind(pipe));
    }

    [Fact]
    public void A_symbolic_link_is_followed_the_link_stays_and_its_target_is_replaced()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("real.bpm"), "old");
        File.CreateSymbolicLink(folder.File("link.bpm"), folder.File("real.bpm"));

        AtomicFile.Write(folder.File("link.bpm"), "model", "new"u8.ToArray());

        Assert.NotNull(new FileInfo(folder.File("link.bpm")).LinkTarget);
        Assert.Equal("new", File.ReadAllText(folder.File("real.bpm")));
    }

    [Theory]
    [InlineData("same")]
    [InlineData("dot-dot")]
    [InlineData("symlink")]
    [InlineData("hard-link")]
    public void Two_files_of_one_set_on_the_same_file_are_refused_before_either_is_written(string how)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("keep.bpm"), "kept");
        var second = SecondPath(folder, how);
        using var files = new AtomicFileSet();
        files.Stage(folder.File("keep.bpm"), "model", s => s.Write("model"u8));

        var error = Assert.Throws<BackpropException>(() => files.Stage(second, "report", s => s.Write("report"u8)));

        Assert.Equal($"{second}: cannot write the report: it is the same file as the model ({folder.File("keep.bpm")}); each output needs a file of its own.", error.Message);
        files.Dispose();
        Assert.Equal("kept", File.ReadAllText(folder.File("keep.bpm")));
    }

    [Theory]
    [InlineData("same")]
    [InlineData("dot-dot")]
    [InlineData("symlink")]
    [InlineData("hard-link")]
    [InlineData("missing")]
    public void An_output_plan_refuses_two_outputs_on_one_file_by_any_path(string how)
    {
        using var folder = new TempFolder();
        if (how != "missing")
        {
            File.WriteAllText(folder.File("keep.bpm"), "kept");
        }
        var second = how == "missing" ? folder.File("sub/../keep.bpm") : SecondPath(folder, how);
        Directory.CreateDirectory(folder.File("sub"));
        var plan = new OutputPlan();
        plan.Output(folder.File("keep.bpm"), "--out");

        var error = Assert.Throws<BackpropException>(() => plan.Output(second, "--report"));

        Assert.Equal($"--report {second} is the same file as --out {folder.File("keep.bpm")}: each output needs a file of its own.", error.Message);
    }

    [Fact]
    public void An_output_plan_refuses_an_output_on_an_input_unless_it_continues_it()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("data.csv"), "x,y\n1,2\n");
        File.WriteAllText(folder.File("run.ckpt"), "checkpoint");
        var plan = new OutputPlan();
        plan.Input(folder.File("data.csv"), "--data");
        plan.Input(folder.File("run.ckpt"), "--resume");

        plan.Output(folder.File("run.ckpt"), "--checkpoint", replaces: "--resume");
        var error = Assert.Throws<BackpropException>(() => plan.Output(folder.File("data.csv"), "--out"));
        var other = Assert.Throws<BackpropException>(() => plan.Output(folder.File("run.ckpt"), "--report"));

        Assert.Equal($"--out {folder.File("data.csv")} is the same file as --data {folder.File("data.csv")}: an output must not replace an input.", error.Message);
        Assert.Equal($"--report {folder.File("run.ckpt")} is the same file as --resume {folder.File("run.ckpt")}: an output must not replace an input.", other.Message);
    }

    [Fact]
    public void Devices_may_take_any_number_of_outputs()
    {
        if (!(OperatingSystem.IsLinux()))
        {
            return; // Linux only
        }
        var plan = new OutputPlan();

        plan.Output("/dev/null", "--out");
        plan.Output("/dev/null", "--report");
    }

    [Fact]
    public void A_name_created_once_is_never_replaced()
    {
        using var folder = new TempFolder();
        var path = folder.File("backprop.ckpt");

        Assert.True(AtomicFile.CreateOnce(path, "checkpoint", "first"u8.ToArray()));
        Assert.False(AtomicFile.CreateOnce(path, "checkpoint", "second"u8.ToArray()));

        Assert.Equal("first", File.ReadAllText(path));
        Assert.Equal(["backprop.ckpt"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    private static string SecondPath(TempFolder folder, string how)
    {
        switch (how)
        {
            case "dot-dot":
                Directory.CreateDirectory(folder.File("sub"));
                return folder.File("sub/../keep.bpm");
            case "symlink":
                File.CreateSymbolicLink(folder.File("link.html"), folder.File("keep.bpm"));
                return folder.File("link.html");
            case "hard-link":
                using (var ln = System.Diagnostics.Process.Start("ln", [folder.File("keep.bpm"), folder.File("hard.html")]))
                {
                    ln.WaitForExit();
                }
                return folder.File("hard.html");
            default:
                return folder.File("keep.bpm");
        }
    }
}
