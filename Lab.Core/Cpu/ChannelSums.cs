using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Cpu;

/// <summary>
/// A convolution's bias gradient, db[c] = the sum of dy[n, c] over the batch and the plane, for planes of at most
/// <see cref="MaxPlane"/> pixels: one vector per channel accumulates each sample's plane (one to four masked loads),
/// and is summed once. The small layers' planes (2x2 to 8x8) made a library sum per (sample, channel), 256 calls of
/// four floats for the GAN's 8 -> 16 layer, cost more than the additions.
/// </summary>
internal static unsafe class ChannelSums
{
    public const int MaxPlane = 64;

    public static bool Applies(int spatial) => Avx512F.IsSupported && spatial <= MaxPlane;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum(float* dy, float* db, int n, int channels, int spatial)
    {
        long sample = (long)channels * spatial;
        for (int c = 0; c < channels; c++)
        {
            var acc = Vector512<float>.Zero;
            for (int j0 = 0; j0 < spatial; j0 += 16)
            {
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(spatial - j0)).AsSingle();
                float* at = dy + (long)c * spatial + j0;
                for (int i = 0; i < n; i++, at += sample) acc += Avx512F.MaskLoad(at, mask, Vector512<float>.Zero);
            }
            db[c] = Vector512.Sum(acc);
        }
    }
}
