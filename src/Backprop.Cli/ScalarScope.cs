using Backprop.Nn;
using Backprop.Runs;

namespace Backprop.Cli;

/// <summary>
/// The scope of the scalar lesson views (<c>explain</c>, <c>graph</c>): networks of dense layers, one
/// named number per node. Other networks are refused in one line that says why.
/// </summary>
internal static class ScalarScope
{
    /// <summary>Refuses a network with a layer that is not dense, naming the layer.</summary>
    /// <exception cref="BackpropException">The network has a layer the scalar view does not build.</exception>
    public static void Check(RunSpec spec, string command)
    {
        if (spec.Network.Net is null)
        {
            return;
        }
        var network = spec.Network.Build<double>();
        if (network.Layers.FirstOrDefault(l => l is not Dense<double>) is { } layer)
        {
            throw new BackpropException($"{command} shows the scalar view of the lesson (one named number per node), which covers networks of dense layers only; this network has {layer.Describe()}. gradcheck checks the gradients of any network.");
        }
    }
}
