using Backprop.Tests.Distributed;

namespace Backprop.Tests;

/// <summary>
/// The test assembly as a program: <c>dotnet Backprop.Tests.dll mpi-worker …</c> is what each rank runs
/// under <c>mpirun</c> in the multi-process tests (<see cref="MpiWorker"/>). Test runners never call it.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && args[0] == "mpi-worker")
        {
            return MpiWorker.Run(args[1..]);
        }
        Console.Error.WriteLine("Backprop.Tests: run the tests with dotnet test; 'mpi-worker' is for the multi-process tests.");
        return 2;
    }
}
