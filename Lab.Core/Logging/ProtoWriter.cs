using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Lab.Core.Logging;

/// <summary>
/// Just enough protobuf encoding for TensorBoard events: a field is a varint key (field number &lt;&lt; 3 | wire
/// type) followed by a varint (type 0), 8 little-endian bytes (type 1), a length-prefixed blob (type 2) or 4
/// little-endian bytes (type 5). Nested messages are encoded separately and written as blobs.
/// </summary>
public sealed class ProtoWriter
{
    private const int MaxFieldNumber = (1 << 29) - 1;
    private readonly ArrayBufferWriter<byte> _buffer = new(64);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>A copy of the bytes written so far.</summary>
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>A varint field (int32, int64, uint64, bool, enum). Negative int64 values take 10 bytes, as in protobuf.</summary>
    public ProtoWriter WriteVarint(int field, ulong value)
    {
        WriteKey(field, 0);
        WriteRawVarint(value);
        return this;
    }

    /// <summary>An int64 field.</summary>
    public ProtoWriter WriteInt64(int field, long value) => WriteVarint(field, unchecked((ulong)value));

    /// <summary>A double field (wire type 1, fixed64).</summary>
    public ProtoWriter WriteDouble(int field, double value)
    {
        WriteKey(field, 1);
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    /// <summary>A float field (wire type 5, fixed32).</summary>
    public ProtoWriter WriteFloat(int field, float value)
    {
        WriteKey(field, 5);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    /// <summary>A bytes field (wire type 2).</summary>
    public ProtoWriter WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteKey(field, 2);
        WriteRawVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>A string field, UTF-8 encoded.</summary>
    public ProtoWriter WriteString(int field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return WriteBytes(field, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>An embedded message field.</summary>
    public ProtoWriter WriteMessage(int field, ProtoWriter message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return WriteBytes(field, message.WrittenSpan);
    }

    private void WriteKey(int field, int wireType)
    {
        if (field is < 1 or > MaxFieldNumber)
        {
            throw new ArgumentOutOfRangeException(nameof(field), field, $"Protobuf field numbers are 1..{MaxFieldNumber}.");
        }
        WriteRawVarint(((ulong)field << 3) | (uint)wireType);
    }

    private void WriteRawVarint(ulong value)
    {
        // Seven bits per byte, low bits first; the high bit says another byte follows.
        Span<byte> span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }
}
