using System.Globalization;
using System.Numerics;
using Backprop.Distributed;
using Backprop.Training;

namespace Backprop.Tests.Distributed;

/// <summary>
/// One rank of a multi-process test: trains <see cref="DdpProblem"/> data-parallel over MPI and, on
/// rank 0, writes the final parameters' bits to a file (the other ranks check they hold the same).
/// </summary>
internal static class MpiWorker
{
    /// <summary>Arguments: precision (float, double), loss, optimizer, steps, batch rows, rows, output file.</summary>
    public static int Run(string[] args)
    {
        using var communicator = MpiCommunicator.Start();
        return args[0] == "float" ? Train<float>(communicator, args) : Train<double>(communicator, args);
    }

    private static int Train<T>(MpiCommunicator communicator, string[] args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (loss, optimizer) = (args[1], args[2]);
        var (steps, batch, rows) = (int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture), int.Parse(args[5], CultureInfo.InvariantCulture));
        var trainer = DdpProblem.Trainer<T>(loss, optimizer, 0.01);
        var ddp = new DistributedDataParallel<T>(communicator);
        ddp.Attach(trainer);
        trainer.Fit(DdpProblem.X<T>(rows), DdpProblem.Y<T>(loss, rows), new TrainingOptions { MaxSteps = steps, MinStepSize = null, BatchSize = batch });
        ddp.VerifySameParameters(trainer.Model);
        if (ddp.IsRoot)
        {
            File.WriteAllLines(args[6], DdpProblem.Parameters(trainer.Model).Select(Bits));
        }
        return 0;
    }

    public static string Bits<T>(T value) where T : unmanaged, IFloatingPointIeee754<T>
        => value is float f ? BitConverter.SingleToInt32Bits(f).ToString("x8", CultureInfo.InvariantCulture)
            : BitConverter.DoubleToInt64Bits(double.CreateChecked(value)).ToString("x16", CultureInfo.InvariantCulture);

    public static double FromBits(string bits)
        => bits.Length == 8 ? BitConverter.Int32BitsToSingle(int.Parse(bits, NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            : BitConverter.Int64BitsToDouble(long.Parse(bits, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}
