using Backprop.Nn;

namespace Backprop.Tests.Nn;

public sealed class ReferenceCnnTests
{
    [Fact]
    public void The_reference_cnn_is_its_net_item_list_with_he_starting_values_from_its_seed()
    {
        var fromItems = NetworkSpec.Parse("conv 32 3 pad 1, relu, maxpool 2, conv 64 3 pad 1, relu, maxpool 2, flatten, dense 128 relu, dense 10")
            .Build<float>(ReferenceCnn.InputShape);
        new HeInitializer(7).Initialize(fromItems);

        var network = ReferenceCnn.Create<float>(7);

        Assert.Equal(fromItems.Describe(), network.Describe());
        Assert.Equal(421_642, network.ParameterCount());
        Assert.Equal(fromItems.Parameters().Select(p => p.Data.ToArray()), network.Parameters().Select(p => p.Data.ToArray()));
        Assert.NotEqual(network.Parameters().First().Data.ToArray(), ReferenceCnn.Create<float>(8).Parameters().First().Data.ToArray());
    }
}
