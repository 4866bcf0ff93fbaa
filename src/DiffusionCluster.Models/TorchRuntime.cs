using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionCluster.Models;

/// Process-wide libtorch settings that TorchSharp does not expose.
public static class TorchRuntime
{
    static int _initialised;

    /// Turns NNPACK off. On CPUs it does not support, libtorch otherwise tries it on convolutions and prints
    /// "Could not initialize NNPACK! Reason: Unsupported hardware." dozens of times per run; convolutions then
    /// take the same path they take anyway. Safe to call repeatedly; does nothing where the symbol is absent.
    public static void Initialise()
    {
        if (Interlocked.Exchange(ref _initialised, 1) == 1) return;
        _ = torch.CPU; // loads libtorch through TorchSharp's own native resolution
        try
        {
            SetUserEnabledNNPACK(GlobalContext(), false);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libtorch build without these C++ symbols: keep its defaults.
        }
    }

    // at::globalContext() and at::Context::setUserEnabledNNPACK(bool), by their Itanium-ABI names.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
