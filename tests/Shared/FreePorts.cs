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
}
