using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionCluster.Diffusion;

/// Process-wide libtorch settings that TorchSharp does not expose, applied when this assembly loads (every
/// project that runs tensor code references it), so no entry point can forget them.
public static class TorchRuntime
{
    static int _initialised;

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Must run before any tensor work in any host: tests, CLI, silos.")]
    internal static void OnLoad() => Initialise();

    /// - oneDNN (MKLDNN) off: on this project's CPU machines (AMD EPYC, AVX-512) libtorch 2.10's oneDNN 3.7.1
    ///   convolution backward returned NaN gradients intermittently (and different finite ones, against
    ///   libtorch's native kernels, in about a third of small conv-norm-conv trials), which killed U-Net
    ///   training at step 2; its forward pass was wrong too (a small U-Net's output off by 0.17 where
    ///   libtorch's native kernels match a float64 run to 1e-6). libtorch's native kernels are used.
    /// - NNPACK off: on CPUs it does not support, libtorch tries it on convolutions and prints "Could not
    ///   initialize NNPACK! Reason: Unsupported hardware." dozens of times per run.
    /// Does nothing where libtorch lacks these C++ symbols (another build).
    public static void Initialise()
    {
        if (Interlocked.Exchange(ref _initialised, 1) == 1) return;
        _ = torch.CPU; // loads libtorch through TorchSharp's own native resolution
        try
        {
            var context = GlobalContext();
            SetUserEnabledMkldnn(context, false);
            SetUserEnabledNNPACK(context, false);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libtorch build without these symbols: keep its defaults.
        }
    }

    // at::globalContext() and at::Context setters, by their Itanium-ABI names.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
