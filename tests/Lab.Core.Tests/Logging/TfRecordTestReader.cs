using System.Buffers.Binary;
using Lab.Core.Logging;

namespace Lab.Core.Tests.Logging;

/// <summary>Reads TFRecord framing back and checks both masked CRCs of every record.</summary>
public static class TfRecordTestReader
{
    public static List<byte[]> Read(byte[] file)
    {
        var records = new List<byte[]>();
        int pos = 0;
        while (pos < file.Length)
        {
            if (file.Length - pos < 12)
            {
                throw new InvalidDataException($"truncated header at byte {pos}");
            }
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(pos));
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + 8));
            if (Crc32C.Unmask(lengthCrc) != Crc32C.Compute(file.AsSpan(pos, 8)))
            {
                throw new InvalidDataException($"length CRC mismatch at byte {pos}");
            }
            pos += 12;
            if ((ulong)(file.Length - pos) < length + 4)
            {
                throw new InvalidDataException($"truncated record at byte {pos}");
            }
            var data = file.AsSpan(pos, (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + (int)length));
            if (Crc32C.Unmask(dataCrc) != Crc32C.Compute(data))
            {
                throw new InvalidDataException($"data CRC mismatch at byte {pos}");
            }
            records.Add(data.ToArray());
            pos += (int)length + 4;
        }
        return records;
    }
}
