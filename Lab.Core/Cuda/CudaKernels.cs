using System.Runtime.CompilerServices;

namespace Lab.Core.Cuda;

/// <summary>
/// One kernel of the embedded PTX: its module (the .cu file), its name, and its parameter list as
/// one character per parameter (p pointer, i int, f float, [N] an N-byte struct). Launches check the
/// arguments against it, and a test checks it against the PTX, so a mismatch is an error, not garbage.
/// </summary>
internal sealed record KernelSpec(int Id, string Module, string Name, string Signature);

/// <summary>Every kernel the CUDA backend launches.</summary>
internal static class Kernels
{
    private static readonly List<KernelSpec> Specs = [];
    public static IReadOnlyList<KernelSpec> All => Specs;

    private static KernelSpec K(string module, string name, string signature)
    {
        var k = new KernelSpec(Specs.Count, module, name, signature);
        Specs.Add(k);
        return k;
    }

    private const string Dims = "[32]", Geometry = "[52]", Pool = "[48]";

    public static readonly KernelSpec Unary = K("elementwise", "unary", "ippiff");
    public static readonly KernelSpec UnaryPow = K("elementwise", "unary_pow", "ppif");
    public static readonly KernelSpec UnaryGrad = K("elementwise", "unary_grad", "ippppiff");
    public static readonly KernelSpec UnaryGradPow = K("elementwise", "unary_grad_pow", "pppif");
    public static readonly KernelSpec Binary = K("elementwise", "binary", "ipppii" + Dims + Dims + Dims);
    public static readonly KernelSpec BinaryPow = K("elementwise", "binary_pow", "pppii" + Dims + Dims + Dims);
    public static readonly KernelSpec Where = K("elementwise", "where_select", "ppppii" + Dims + Dims + Dims + Dims);
    public static readonly KernelSpec Axpy = K("elementwise", "axpy", "fppi");

    public static readonly KernelSpec ReduceRows = K("reduce", "reduce_rows", "ippiiiippi");
    public static readonly KernelSpec ReduceCols = K("reduce", "reduce_cols", "ippiiiiippi");
    public static readonly KernelSpec ReduceStrided = K("reduce", "reduce_strided", "ipiiip");
    public static readonly KernelSpec SoftmaxRows = K("reduce", "softmax_rows", "ppiii");
    public static readonly KernelSpec SoftmaxCols = K("reduce", "softmax_cols", "ppiiii");
    public static readonly KernelSpec SoftmaxGradRows = K("reduce", "softmax_grad_rows", "pppiii");
    public static readonly KernelSpec SoftmaxGradCols = K("reduce", "softmax_grad_cols", "pppiiii");
    public static readonly KernelSpec SumOfSquares = K("reduce", "sum_of_squares", "pip");
    public static readonly KernelSpec ChannelSum = K("reduce", "channel_sum", "ppiii");

    public static readonly KernelSpec LayerNormRows = K("norm", "layer_norm_rows", "pppiif");
    public static readonly KernelSpec LayerNormGradRows = K("norm", "layer_norm_grad_rows", "ppppii");

    public static readonly KernelSpec Permute = K("data", "permute", "ppii" + Dims + Dims);
    public static readonly KernelSpec Transpose = K("data", "transpose", "ppiii");
    public static readonly KernelSpec CopyBlocks = K("data", "copy_blocks", "pipiiii");
    public static readonly KernelSpec IndexSelect = K("data", "index_select", "pppiiiip");
    public static readonly KernelSpec IndexAdd = K("data", "index_add", "pppiiiip");
    public static readonly KernelSpec Gather = K("data", "gather", "pppiip");
    public static readonly KernelSpec ScatterAdd = K("data", "scatter_add", "pppiip");

    public static readonly KernelSpec AdamStep = K("optim", "adam_step", "pppppiffffff");
    public static readonly KernelSpec SgdStep = K("optim", "sgd_step", "pppifffif");
    public static readonly KernelSpec RmsPropStep = K("optim", "rmsprop_step", "pppppifffff");

    public static readonly KernelSpec Im2Col = K("conv", "im2col", "ppi" + Geometry);
    public static readonly KernelSpec Col2Im = K("conv", "col2im", "ppi" + Geometry);
    public static readonly KernelSpec AddChannelBias = K("conv", "add_channel_bias", "ppiii");

    public static readonly KernelSpec MaxPool = K("pool", "max_pool", "pppi" + Pool);
    public static readonly KernelSpec MaxPoolGrad = K("pool", "max_pool_grad", "pppi" + Pool);
    public static readonly KernelSpec MaxPoolGather = K("pool", "max_pool_gather", "pppi" + Pool);
    public static readonly KernelSpec AvgPool = K("pool", "avg_pool", "ppii" + Pool);
    public static readonly KernelSpec AvgPoolGrad = K("pool", "avg_pool_grad", "ppii" + Pool);

    public static readonly KernelSpec LstmCell = K("recurrent", "lstm_cell", "ppppii");
    public static readonly KernelSpec LstmCellGrad = K("recurrent", "lstm_cell_grad", "pppppppii");
    public static readonly KernelSpec GruCell = K("recurrent", "gru_cell", "ppppii");
    public static readonly KernelSpec GruCellGrad = K("recurrent", "gru_cell_grad", "pppppppii");

    /// <summary>The PTX text of a module, embedded in Lab.Core.</summary>
    public static string Ptx(string module)
    {
        using var s = typeof(Kernels).Assembly.GetManifestResourceStream($"Lab.Core.Cuda.kernels.{module}.ptx")
            ?? throw new InvalidOperationException($"Lab.Core has no embedded PTX for kernel module '{module}'.");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }
}

/// <summary>A device address as a kernel argument.</summary>
public readonly record struct DevicePtr(ulong Address)
{
    public static readonly DevicePtr Null = new(0);
}

/// <summary>Up to sixteen ints passed by value as one struct (shapes and geometries).</summary>
[InlineArray(16)]
internal struct IntBlock { private int _first; }

/// <summary>One kernel argument; ints, floats and device pointers convert implicitly, so launches read like calls.</summary>
internal readonly struct Arg
{
    public readonly char Kind; // 'p', 'i', 'f' or 's'
    public readonly ulong Bits;
    public readonly IntBlock Ints;
    public readonly int Count;

    private Arg(char kind, ulong bits) { Kind = kind; Bits = bits; }

    public Arg(ReadOnlySpan<int> ints)
    {
        Kind = 's';
        Count = ints.Length;
        ints.CopyTo(Ints);
    }

    public static implicit operator Arg(int v) => new('i', (uint)v);
    public static implicit operator Arg(bool v) => new('i', v ? 1u : 0u);
    public static implicit operator Arg(float v) => new('f', BitConverter.SingleToUInt32Bits(v));
    public static implicit operator Arg(DevicePtr p) => new('p', p.Address);
}
