using Backprop.Playground;

namespace Backprop.Tests.Playground;

/// <summary><c>serve --load-test</c>'s measurement, run small: its tabs get no error, whatever the machine's speed.</summary>
public sealed class LoadTestTests
{
    [Fact]
    public async Task A_short_load_test_of_two_tabs_has_no_errors_and_counts_ten_steps_a_message()
    {
        var result = await LoadTest.RunAsync(2, TimeSpan.FromMilliseconds(300));

        Assert.Equal(2, result.Sessions);
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Messages * 10, result.Steps);
    }

    [Theory]
    [InlineData(0, 10, "A load test runs 1 to 200 sessions.")]
    [InlineData(201, 10, "A load test runs 1 to 200 sessions.")]
    [InlineData(5, 0, "A load test runs for at most 120 seconds.")]
    [InlineData(5, 121, "A load test runs for at most 120 seconds.")]
    public async Task Sessions_or_seconds_out_of_bounds_are_refused(int sessions, int seconds, string message)
    {
        var e = await Assert.ThrowsAsync<BackpropException>(() => LoadTest.RunAsync(sessions, TimeSpan.FromSeconds(seconds)));
        Assert.Equal(message, e.Message);
    }
}
