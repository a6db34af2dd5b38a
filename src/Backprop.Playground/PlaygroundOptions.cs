using System.Net;

namespace Backprop.Playground;

/// <summary>How <c>backprop serve</c> listens and what each browser tab may ask of it.</summary>
public sealed record PlaygroundOptions
{
    /// <summary>The address to listen on: loopback unless said otherwise.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The port; 0 for any free port.</summary>
    public int Port { get; init; }

    /// <summary>The most tabs (sessions) at once; a tab beyond them is refused.</summary>
    public int MaxSessions { get; init; } = 64;

    /// <summary>A tab that sends nothing for this long is closed and forgotten.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The largest CSV file a tab may upload, in bytes.</summary>
    public int MaxUploadBytes { get; init; } = 1 << 20;

    /// <summary>The most training steps per second one tab may run (bursts of up to one second's worth).</summary>
    public double StepsPerSecond { get; init; } = 5000;

    /// <summary>The clock that idle sessions and step budgets are measured by (a test passes one it moves itself).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The largest message a tab may send, in bytes: an upload and its wrapping.</summary>
    public int MaxMessageBytes => MaxUploadBytes + (64 << 10);
}
