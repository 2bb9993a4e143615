using Lab.Core.Logging;
using Xunit;

namespace Lab.Core.Tests.Logging;

public class ProtoWriterTests
{
    [Fact]
    public void Encodings_MatchTheProtobufSpecExamples()
    {
        // From the protobuf encoding guide: field 1 = 150 and field 2 = "testing".
        Assert.Equal(new byte[] { 0x08, 0x96, 0x01 }, new ProtoWriter().WriteVarint(1, 150).ToArray());
        Assert.Equal(new byte[] { 0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67 },
            new ProtoWriter().WriteString(2, "testing").ToArray());
        // Embedded message: field 3 holding {1: 150}.
        Assert.Equal(new byte[] { 0x1A, 0x03, 0x08, 0x96, 0x01 },
            new ProtoWriter().WriteMessage(3, new ProtoWriter().WriteVarint(1, 150)).ToArray());
        // Negative int64 is ten bytes of two's complement.
        Assert.Equal(new byte[] { 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 },
            new ProtoWriter().WriteInt64(2, -1).ToArray());
        // double 1.0 = 0x3FF0000000000000 little-endian, wire type 1; float 1.0 = 0x3F800000, wire type 5.
        Assert.Equal(new byte[] { 0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F }, new ProtoWriter().WriteDouble(1, 1.0).ToArray());
        Assert.Equal(new byte[] { 0x15, 0, 0, 0x80, 0x3F }, new ProtoWriter().WriteFloat(2, 1f).ToArray());
        // Field 16 needs a two-byte key.
        Assert.Equal(new byte[] { 0x80, 0x01, 0x00 }, new ProtoWriter().WriteVarint(16, 0).ToArray());
    }

    [Fact]
    public void RoundTripsThroughAnIndependentReader()
    {
        var writer = new ProtoWriter()
            .WriteDouble(1, 1712345678.25)
            .WriteInt64(2, 1L << 40)
            .WriteString(3, "héllo")
            .WriteFloat(4, -0.125f);
        var fields = ProtoTestReader.Parse(writer.WrittenSpan);
        Assert.Equal([1, 2, 3, 4], fields.Select(f => f.Number));
        Assert.Equal(1712345678.25, fields[0].Double);
        Assert.Equal(1L << 40, fields[1].Int64);
        Assert.Equal("héllo", fields[2].String);
        Assert.Equal(-0.125f, fields[3].Float);
    }

    [Fact]
    public void BadFieldNumber_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtoWriter().WriteVarint(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtoWriter().WriteVarint(1 << 29, 1));
    }
}
