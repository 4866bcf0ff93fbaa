using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionCluster.Diffusion;

/// Process-wide libtorch settings that TorchSharp does not expose, applied when this assembly loads (every
/// project that runs tensor code references it), so no entry point can forget them.
///
/// One hazard no setting removes: a number operand (`x * 0.5`, `1 - t`, `clamp(-1, 1)`) becomes a native Scalar
/// that TorchSharp makes on the fly and never disposes, so once the native op has its handle the GC may finalise it
/// while libtorch still reads it (a rare "Expected false to be true" from Scalar::toFloat or toLong, seen in
/// training runs and CI). Code that runs at every step or in every block holds its numbers as `using Scalar` locals
/// to the end of the operation. TorchSharp's add and sub with a Scalar still pass an alpha of 1 made on the fly;
/// `add_(value, alpha)` with both held avoids that where it has been seen to fail (AdamW).
public static class TorchRuntime
{
    static int _initialised;
    static IntPtr _context;
    static readonly object Gate = new();

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Must run before any tensor work in any host: tests, CLI, silos.")]
    internal static void OnLoad() => Initialise();

    /// Whether CPU convolutions run on oneDNN (MKLDNN), libtorch's fastest CPU kernels where they compute right.
    public static bool OneDnn { get; private set; }

    /// The start-up check of oneDNN's forward convolutions against float64 (null where libtorch has no oneDNN switch).
    public static KernelCheck? OneDnnCheck { get; private set; }

    /// The check of oneDNN's convolution gradients, run once a process prepares for training (null before).
    public static KernelCheck? OneDnnGradientCheck { get; private set; }

    /// - glibc's heap thresholds fixed, so the networks' large buffers are reused rather than mapped anew (NativeHeap);
    /// - oneDNN on for inference, after a check of its forward convolutions against float64 (KernelCheck.Forward);
    ///   where it disagrees it is turned off and libtorch's native kernels are used. Hosts log Describe() and
    ///   export the outcome as the dc.kernels.onednn metric.
    /// - NNPACK off: on CPUs it does not support, libtorch tries it on convolutions and prints "Could not
    ///   initialize NNPACK! Reason: Unsupported hardware." dozens of times per run.
    /// Does nothing where libtorch lacks these C++ symbols (another build).
    public static void Initialise()
    {
        if (Interlocked.Exchange(ref _initialised, 1) == 1) return;
        NativeHeap.Configure(); // before libtorch allocates its first buffers
        _ = torch.CPU; // loads libtorch through TorchSharp's own native resolution
        try
        {
            _context = GlobalContext();
            SetUserEnabledNNPACK(_context, false);
            SetUserEnabledMkldnn(_context, true);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return; // A libtorch build without these symbols: keep its defaults.
        }
        OneDnnCheck = KernelCheck.Forward();
        SetOneDnn(OneDnnCheck.Passes);
    }

    /// Called by every process that trains: checks oneDNN's convolution gradients against float64 and turns oneDNN
    /// off for the whole process if they disagree (on this project's machines they do, for convolutions whose channel
    /// count is not a multiple of 16, such as every network's 3-channel image ends).
    public static void PrepareForTraining()
    {
        Initialise();
        lock (Gate)
        {
            if (!OneDnn || OneDnnGradientCheck is not null) return;
            OneDnnGradientCheck = KernelCheck.Backward();
            SetOneDnn(OneDnnGradientCheck.Passes);
        }
    }

    /// The first loaded network whose float32 forward disagreed with float64 while oneDNN was on (null: none did).
    public static (string Network, KernelCheck Check)? OneDnnNetworkFailure { get; private set; }

    /// Checks a loaded network on this process's kernels: forward(float32) against forward(float64), which the caller
    /// runs on the same weights and inputs. oneDNN's convolutions are right for some shapes and wrong for others on a
    /// given CPU (on this project's AMD EPYC machines, 3x3 convolutions with more than 16 input channels that are
    /// not a multiple of 16), so each network is checked as it loads; a disagreement turns
    /// oneDNN off for the whole process. Does nothing while oneDNN is off.
    public static void CheckNetwork(string network, Func<TorchSharp.torch.ScalarType, TorchSharp.torch.Tensor> forward)
    {
        lock (Gate)
        {
            if (!OneDnn) return;
            var check = KernelCheck.Of(forward);
            if (check.Passes) return;
            OneDnnNetworkFailure = (network, check);
            SetOneDnn(false);
        }
    }

    /// Whether a check found oneDNN wrong on this machine (hosts log it as a warning).
    public static bool OneDnnFailed => OneDnnCheck is { Passes: false } || OneDnnGradientCheck is { Passes: false } || OneDnnNetworkFailure is not null;

    /// One line for a host's log.
    public static string Describe() => (OneDnnCheck, OneDnnGradientCheck, OneDnnNetworkFailure) switch
    {
        (null, _, _) => "CPU kernels: libtorch's defaults (no oneDNN switch in this build)",
        ({ Passes: false } forward, _, _) => $"CPU kernels: libtorch's native kernels; oneDNN's convolutions disagreed with float64 at start-up ({forward}) and it is off",
        (_, _, ({ } network, { } check)) => $"CPU kernels: libtorch's native kernels; with oneDNN, {network}'s forward disagreed with float64 ({check}), so it is off",
        (var forward, { Passes: false } backward, _) => $"CPU kernels: libtorch's native kernels; oneDNN's forward passed ({forward}) but its convolution gradients did not ({backward}), so this training process runs without it",
        (var forward, null, _) => $"CPU kernels: oneDNN (start-up check: {forward}; every loaded network checked)",
        (var forward, var backward, _) => $"CPU kernels: oneDNN (checks: {forward}; {backward})",
    };

    static void SetOneDnn(bool enabled)
    {
        SetUserEnabledMkldnn(_context, enabled);
        OneDnn = enabled;
    }

    // at::globalContext() and at::Context setters, by their Itanium-ABI names.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
