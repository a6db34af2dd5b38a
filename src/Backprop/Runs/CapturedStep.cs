using Backprop.Nn;
using Backprop.Optim;
using Backprop.Training;

namespace Backprop.Runs;

/// <summary>
/// One training step caught in the act (<see cref="TrainingRun.CaptureStep"/>): every number's value
/// before the step, its gradient in the step, and its value after the update, with the network
/// rewound to the values before the step so that the step can be explained from them.
/// </summary>
/// <param name="Step">The step captured, 1 for the first.</param>
/// <param name="Network">The network, holding the values before the step.</param>
/// <param name="Result">How training up to the step ended.</param>
/// <param name="Before">Each number's value before the step, in <see cref="Module{T}.Elements"/> order; null when training stopped before the step.</param>
/// <param name="Gradients">Each number's gradient in the step (the tensor engine's); null when training stopped before the step.</param>
/// <param name="After">Each number's value after the step's update; null when training stopped before the step.</param>
/// <param name="Optimizer">The optimizer that made the step (its name, learning rate and constants); null when training stopped before the step.</param>
/// <param name="StateBefore">The optimizer's state (step count, momentum's velocity, Adam's m and v) before the step; null when training stopped before it.</param>
/// <param name="StateAfter">The optimizer's state after the step; null when training stopped before it.</param>
public sealed record CapturedStep(
    int Step, Sequential<double> Network, TrainingResult Result, IReadOnlyList<double>? Before, IReadOnlyList<double>? Gradients, IReadOnlyList<double>? After,
    Optimizer<double>? Optimizer = null, OptimizerState<double>? StateBefore = null, OptimizerState<double>? StateAfter = null)
{
    /// <summary>Whether training reached the step (it may stop sooner, e.g. when every step size is small).</summary>
    public bool Reached => Before is not null && After is not null;
}

/// <summary>Keeps the values, gradients, optimizer state and updated values of one step, then stops training.</summary>
internal sealed class StepCaptureMonitor(int step) : TrainingMonitor<double>
{
    public Optimizer<double>? Optimizer { get; private set; }

    public OptimizerState<double>? StateBefore { get; private set; }

    public OptimizerState<double>? StateAfter { get; private set; }

    public double[]? Before { get; private set; }

    public double[]? Gradients { get; private set; }

    public double[]? After { get; private set; }

    public override void OnGradients(Trainer<double> trainer, int stepNumber, double loss, Autograd.Graph<double> graph)
    {
        if (stepNumber == step)
        {
            Before = [.. trainer.Model.Elements().Select(e => e.Value)];
            Gradients = [.. trainer.Model.Elements().Select(e => e.Gradient)];
            Optimizer = trainer.Optimizer;
            StateBefore = trainer.Optimizer.GetState();
        }
    }

    public override void OnStep(Trainer<double> trainer, in StepInfo info)
    {
        if (info.Step == step)
        {
            After = [.. trainer.Model.Elements().Select(e => e.Value)];
            StateAfter = trainer.Optimizer.GetState();
            trainer.RequestStop(StopReason.Stopped, $"step {step} explained");
        }
    }
}
