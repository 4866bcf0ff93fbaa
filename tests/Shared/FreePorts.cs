using System.Net;
using System.Net.Sockets;

namespace DiffusionCluster.Tests.Shared;

/// A loopback port nothing listens on now, for servers a test starts.
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// Whether a server failed to start because one of its ports was taken between Next() and its bind: another
    /// process (test projects run in parallel) can get the same ephemeral port for a connection of its own.
    /// Kestrel reports it as an AddressInUseException, Orleans' listeners as a SocketException, each possibly
    /// wrapped.
    public static bool IsAddressInUse(Exception? error) => error switch
    {
        null => false,
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        Microsoft.AspNetCore.Connections.AddressInUseException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsAddressInUse),
        _ => IsAddressInUse(error.InnerException),
    };
}
