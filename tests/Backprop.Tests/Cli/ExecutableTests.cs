using Backprop.Tests.TestUtil;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>The built program, started as a separate process the way a user starts it.</summary>
public sealed class ExecutableTests
{
    internal static Task<CliResult> RunProcessAsync(params string[] args) => RunProcessAsync(new Dictionary<string, string>(), args);

    /// <summary>Runs the program with <paramref name="environment"/> added to this process's environment variables.</summary>
    internal static async Task<CliResult> RunProcessAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        // The test project references the CLI project, so its build output sits beside this assembly.
        var dll = Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing");
        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(dll, args, TimeSpan.FromMinutes(5), start =>
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        });
        return new CliResult(exitCode, stdout, stderr);
    }

    [Fact]
    public async Task Executable_prints_the_json_report_and_exits_0()
    {
        var run = await RunProcessAsync("--json");

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        Assert.Empty(ProgressLines.Without(run.Stderr));
        var report = ParseReport(run.Stdout);
        Assert.Equal(LessonNames, report.Names);
        Assert.Equal(RunJson().Text, run.Stdout);
    }

    [Fact]
    public async Task Executable_rejects_a_bad_option_with_exit_code_2_and_one_line()
    {
        var run = await RunProcessAsync("--no-such-option");

        var message = AssertBadInput(run);
        Assert.Contains("'--no-such-option'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Executable_exits_3_when_training_diverges_so_that_a_script_can_tell()
    {
        var run = await RunProcessAsync("--only", "w3,w4", "--quiet");

        Assert.Equal(3, run.ExitCode);
        Assert.Matches(@"^backprop: warning: training diverged: the loss grew from 1\.89588 to \S+ \(more than 1E\+06 times\) by step \d+ \(try a smaller learning rate\)$", Assert.Single(ProgressLines.Without(run.Stderr)));
        Assert.Contains("Stopped after 1000 steps", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Executable_rejects_a_bad_value_with_exit_code_2_and_one_line()
    {
        var message = AssertBadInput(await RunProcessAsync("--lr", "0"));

        Assert.Contains("--lr", message, StringComparison.Ordinal);
    }
}
