using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TorchSharpPeer;

/// <summary>
/// oneDNN (mkldnn) for convolutions, on or off, and a check of its results. TorchSharp 0.107 has no
/// torch.backends.mkldnn.enabled; the flag behind it is ATen's <c>at::globalContext().setUserEnabledMkldnn(bool)</c>,
/// exported by libtorch_cpu.so, which ATen's convolution dispatch reads on every call (off: ATen's own slow_conv2d /
/// slow_conv_transpose2d, im2col and GEMM).
/// </summary>
public static partial class OneDnn
{
    private const string TorchCpu = "torch_cpu";

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(TorchCpu, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledMkldnn(IntPtr context);

    public static bool Enabled
    {
        get => UserEnabledMkldnn(GlobalContext());
        set
        {
            SetUserEnabledMkldnn(GlobalContext(), value);
            if (Enabled != value) throw new InvalidOperationException($"ATen's mkldnn flag did not change to {value}");
        }
    }

    /// <summary>
    /// The convolutions of a workload in float32 against the same convolutions in float64 (which oneDNN does not run:
    /// ATen's own kernels compute them), forward and the gradients of input, weight and bias for a random upstream
    /// gradient, at the workload's batch and the thread count set. Returns the cases whose largest error, relative to
    /// the reference's largest magnitude, exceeds 1e-4 (float32 rounding gives about 1e-6 here).
    /// </summary>
    public static IReadOnlyList<string> Check(IEnumerable<(bool Transposed, int In, int Out, int Kernel, int Side)> cases, int batch)
    {
        const double tolerance = 1e-4;
        var wrong = new List<string>();
        var g = new Generator(7);
        foreach (var (transposed, cin, cout, k, side) in cases)
        {
            using var scope = NewDisposeScope();
            var x = rand([batch, cin, side, side], generator: g);
            var w = (rand(transposed ? [cin, cout, k, k] : [cout, cin, k, k], generator: g) - 0.5) * 0.5;
            var b = rand([cout], generator: g) - 0.5;
            var outSide = transposed ? side + k - 1 : side - k + 1;
            var up = randn([batch, cout, outSide, outSide], generator: g);
            var got = Run(transposed, x, w, b, up);
            var reference = Run(transposed, x.to(float64), w.to(float64), b.to(float64), up.to(float64));
            string[] parts = ["output", "input grad", "weight grad", "bias grad"];
            for (int i = 0; i < parts.Length; i++)
            {
                double scale = reference[i].abs().max().item<double>();
                double error = (got[i].to(float64) - reference[i]).abs().max().item<double>() / Math.Max(scale, 1e-30);
                if (!(error <= tolerance))
                    wrong.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{(transposed ? "conv_transpose" : "conv")} {cin}->{cout} {k}x{k} on {side}x{side} {parts[i]} rel. error {error:G2}"));
            }
        }
        return wrong;
    }

    private static Tensor[] Run(bool transposed, Tensor x, Tensor w, Tensor b, Tensor up)
    {
        x = x.detach().requires_grad_();
        w = w.detach().requires_grad_();
        b = b.detach().requires_grad_();
        var y = transposed ? F.conv_transpose2d(x, w, b) : F.conv2d(x, w, b);
        var grads = autograd.grad([y], [x, w, b], [up]);
        return [y.detach(), .. grads];
    }
}
