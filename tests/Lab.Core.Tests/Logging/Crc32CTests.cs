using System.Text;
using Lab.Core.Logging;
using Xunit;

namespace Lab.Core.Tests.Logging;

public class Crc32CTests
{
    [Fact]
    public void KnownVectors()
    {
        // "123456789" is the standard check value; the 32-byte vectors are from RFC 3720 (iSCSI), B.4.
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void HardwarePathMatchesTable_AtEveryLength()
    {
        var data = new byte[300];
        new Random(7).NextBytes(data);
        for (int length = 0; length <= data.Length; length++)
        {
            var span = data.AsSpan(0, length);
            Assert.Equal(~Crc32C.UpdateTable(~0u, span), Crc32C.Compute(span));
        }
    }

    [Fact]
    public void Mask_IsTfRecordsRotateAndAdd_AndUnmaskInvertsIt()
    {
        // crc 0: rotate is 0, plus the constant.
        Assert.Equal(0xA282EAD8u, Crc32C.Mask(0));
        // 0x00008000 rotated right by 15 is 1.
        Assert.Equal(0xA282EAD9u, Crc32C.Mask(0x8000));
        var random = new Random(11);
        for (int i = 0; i < 1000; i++)
        {
            uint crc = (uint)random.NextInt64(0, 1L << 32);
            Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        }
    }
}
