namespace Backprop.Cli;

internal static class Program
{
    private static int Main(string[] args) => BackpropCli.Run(args, Console.Out, Console.Error, ProgressSettings.For(stdoutIsTerminal: !Console.IsOutputRedirected));
}
