using System.Numerics;

namespace Backprop.Optim;

/// <summary>What an optimizer carries from one step to the next, for checkpoints (<see cref="Optimizer{T}.GetState"/>).</summary>
/// <param name="Name">The optimizer: <c>gd</c>, <c>momentum</c> or <c>adam</c>.</param>
/// <param name="StepCount">Steps taken so far (Adam's bias correction depends on it).</param>
/// <param name="LastMaxStepSize">The largest step size of the last step.</param>
/// <param name="Arrays">The state arrays, named <c>kind/parameter</c> (e.g. <c>velocity/layer0.weight</c>, <c>m/w1</c>).</param>
public sealed record OptimizerState<T>(string Name, int StepCount, double LastMaxStepSize, IReadOnlyList<KeyValuePair<string, T[]>> Arrays)
    where T : unmanaged, IFloatingPointIeee754<T>;
