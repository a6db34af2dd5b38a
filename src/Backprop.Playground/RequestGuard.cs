using System.Net;
using Microsoft.AspNetCore.Http;

namespace Backprop.Playground;

/// <summary>
/// Answers only requests addressed to this server by its own name: the Host header must be the
/// address it listens on (or localhost on its port), and an Origin header, when sent, that address
/// over http. This stops DNS rebinding (a page on evil.example whose name now points at 127.0.0.1
/// sends Host: evil.example) and other sites' pages opening its WebSocket.
/// </summary>
public sealed class RequestGuard
{
    private readonly HashSet<string> hosts;

    /// <summary>Creates a guard for a server listening on <paramref name="address"/>:<paramref name="port"/>.</summary>
    public RequestGuard(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        var names = new List<string> { address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString() };
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            names.AddRange(["localhost", "127.0.0.1", "[::1]"]);
        }
        hosts = new HashSet<string>(names.Select(n => $"{n}:{port}"), StringComparer.OrdinalIgnoreCase);
        Address = new Uri($"http://{names[0]}:{port}/");
    }

    /// <summary>The address a browser should open.</summary>
    public Uri Address { get; }

    /// <summary>Null when the request may be answered; otherwise why not.</summary>
    public string? Refusal(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.Headers.Host.ToString();
        if (!hosts.Contains(host))
        {
            return $"this server answers only to {Address.Authority}; Host '{host}' refused";
        }
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0 && !(origin.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && hosts.Contains(origin["http://".Length..])))
        {
            return $"this server answers only to pages from {Address.GetLeftPart(UriPartial.Authority)}; Origin '{origin}' refused";
        }
        return null;
    }
}
