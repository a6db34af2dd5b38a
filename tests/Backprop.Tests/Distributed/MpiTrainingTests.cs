using System.Globalization;
using System.Numerics;
using Backprop.Training;

namespace Backprop.Tests.Distributed;

/// <summary>
/// Real processes under mpirun (oversubscribed on this 2-core machine), each running
/// <see cref="MpiWorker"/>: the parameters they end with against the single-process run's.
/// </summary>
public sealed class MpiTrainingTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string folder = Directory.CreateTempSubdirectory("backprop-mpi-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private async Task<double[]> RunAsync(int processes, params string[] args)
    {
        var output = Path.Combine(folder, $"p{Guid.NewGuid():N}.txt");
        var (code, stdout, stderr) = await Mpirun.RunAsync(processes, Mpirun.TestAssembly, ["mpi-worker", .. args, output], Timeout);
        Assert.True(code == 0, $"mpirun exited with {code}:\n{stdout}\n{stderr}");
        return [.. File.ReadAllLines(output).Select(MpiWorker.FromBits)];
    }

    private static double[] Single<T>(string loss, string optimizer, int steps, int batch, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var trainer = DdpProblem.Trainer<T>(loss, optimizer, 0.01);
        trainer.Fit(DdpProblem.X<T>(rows), DdpProblem.Y<T>(loss, rows), new TrainingOptions { MaxSteps = steps, MinStepSize = null, BatchSize = batch });
        return [.. DdpProblem.Parameters(trainer.Model).Select(double.CreateChecked)];
    }

    // 30 steps: each step's gradients agree within the summation bound (DataParallelTests); the run
    // carries those differences on, so the parameters agree to a few hundred rounding errors of their scale.
    [MpiTheory]
    [InlineData("double", "ssr", "momentum", 2, 1e-12)]
    [InlineData("float", "cross-entropy", "adam", 4, 1e-4)]
    public async Task N_processes_end_with_the_single_process_parameters_within_the_bound(string precision, string loss, string optimizer, int processes, double relative)
    {
        string[] args = [precision, loss, optimizer, "30", "12", "52"];
        var expected = precision == "float" ? Single<float>(loss, optimizer, 30, 12, 52) : Single<double>(loss, optimizer, 30, 12, 52);
        var got = await RunAsync(processes, args);
        Assert.Equal(expected.Length, got.Length);
        var worst = expected.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        var scale = expected.Max(Math.Abs);
        Assert.True(worst <= relative * scale, string.Create(CultureInfo.InvariantCulture, $"largest difference {worst:R}, parameters up to {scale:R}"));
    }

    [MpiFact]
    public async Task One_process_gives_the_single_process_bits_and_two_runs_on_two_give_the_same_bits()
    {
        string[] args = ["float", "mse", "adam", "20", "8", "40"];
        Assert.Equal(Single<float>("mse", "adam", 20, 8, 40), await RunAsync(1, args));
        var first = await RunAsync(2, args);
        Assert.Equal(first, await RunAsync(2, args));
    }
}
