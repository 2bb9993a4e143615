using System.Buffers.Binary;

namespace Lab.Core.Logging;

/// <summary>
/// TFRecord framing: each record is its length (uint64 little-endian), the masked CRC-32C of those 8 bytes,
/// the data, and the masked CRC-32C of the data (both uint32 little-endian).
/// </summary>
public sealed class TfRecordWriter(Stream stream)
{
    private readonly Stream _stream = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <summary>Appends one record.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Mask(Crc32C.Compute(header[..8])));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Mask(Crc32C.Compute(data)));
        _stream.Write(header);
        _stream.Write(data);
        _stream.Write(footer);
    }
}
