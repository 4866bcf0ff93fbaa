using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Models;

internal static class TorchSettings
{
    /// Networks may run before anything touches the Diffusion assembly; apply its libtorch settings here too.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Must run before any tensor work in any host.")]
    internal static void OnLoad() => TorchRuntime.Initialise();
}
