using System.Buffers.Binary;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Lab.Core.Logging;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord framing uses. Runs on the
/// SSE4.2 / ARMv8 CRC32C instructions when present (8 bytes per instruction) and on a byte table otherwise.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/> (initial value and final xor 0xFFFFFFFF).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add a constant, so that a CRC stored inside
    /// CRC-protected data does not make the outer CRC degenerate.</summary>
    public static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xA282EAD8u);

    /// <summary>The inverse of <see cref="Mask"/>.</summary>
    public static uint Unmask(uint masked)
    {
        uint rotated = unchecked(masked - 0xA282EAD8u);
        return (rotated >> 17) | (rotated << 15);
    }

    /// <summary>Continues a CRC over <paramref name="data"/> without the initial/final inversion.</summary>
    internal static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong wide = crc;
            for (; data.Length >= 8; data = data[8..])
            {
                wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            }
            crc = (uint)wide;
            foreach (byte b in data)
            {
                crc = Sse42.Crc32(crc, b);
            }
            return crc;
        }
        if (Crc32.Arm64.IsSupported)
        {
            for (; data.Length >= 8; data = data[8..])
            {
                crc = Crc32.Arm64.ComputeCrc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            }
            foreach (byte b in data)
            {
                crc = Crc32.ComputeCrc32C(crc, b);
            }
            return crc;
        }
        return UpdateTable(crc, data);
    }

    /// <summary>The portable byte-at-a-time path; also the reference the tests hold the intrinsics to.</summary>
    internal static uint UpdateTable(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }
            table[i] = c;
        }
        return table;
    }
}
