using System.Reflection;
using System.Runtime.CompilerServices;
using Backprop.Runs;

namespace Backprop.Tests.Runs;

/// <summary>The command is a shell over the library's public surface: nothing of the library is internal to it.</summary>
public sealed class LibraryBoundaryTests
{
    [Fact]
    public void The_library_shows_its_internals_to_its_tests_only()
    {
        var friends = typeof(TrainingRun).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName);

        Assert.Equal(["Backprop.Tests"], friends);
    }
}
