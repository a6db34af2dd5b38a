namespace Backprop.Cli;

internal static class Program
{
    // NOTE: under mpirun only rank 0 speaks (DistributedTraining): the other ranks' output is dropped, and
    // no rank treats stdout as a terminal (mpirun gives each rank a pseudo-terminal).
    private static int Main(string[] args) => DistributedTraining.IsOtherRank
        ? BackpropCli.Run(args, TextWriter.Null, TextWriter.Null, ProgressSettings.For(stdoutIsTerminal: false))
        : BackpropCli.Run(args, Console.Out, Console.Error, ProgressSettings.For(stdoutIsTerminal: !Console.IsOutputRedirected && DistributedTraining.LauncherRank is null));
}
