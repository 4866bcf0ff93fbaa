using System.Net;
using System.Net.Sockets;

namespace DiffusionCluster.Gateway.Tests;

/// The test server itself: test projects run in parallel, so a port FreePorts handed out can be taken by another
/// process before the server binds it, and that must cost a retry, not a failed test.
public sealed class GatewayServerTests
{
    [Fact]
    public async Task A_server_whose_port_was_taken_before_it_started_starts_on_fresh_ports()
    {
        await using var server = GatewayServer.With([]);
        var taken = new Uri(server.BaseUrl).Port;
        using var squatter = new TcpListener(IPAddress.Loopback, taken);
        squatter.Start();

        await server.InitializeAsync();

        Assert.NotEqual(taken, new Uri(server.BaseUrl).Port);
        var health = await server.Http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void Only_address_in_use_errors_count_as_a_port_race()
    {
        var inUse = new SocketException((int)SocketError.AddressAlreadyInUse);
        Assert.True(FreePorts.IsAddressInUse(new IOException("bind failed", inUse)));
        Assert.True(FreePorts.IsAddressInUse(new AggregateException(new InvalidOperationException("x"), inUse)));
        Assert.False(FreePorts.IsAddressInUse(new IOException("bind failed", new SocketException((int)SocketError.AccessDenied))));
        Assert.False(FreePorts.IsAddressInUse(new InvalidOperationException("model folder missing")));
    }
}
