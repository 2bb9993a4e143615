using System.Buffers.Binary;
using System.Text;

namespace Lab.Core.Tests.Logging;

/// <summary>One decoded protobuf field: its number, wire type and raw value (varint, fixed bits or bytes).</summary>
public sealed record ProtoField(int Number, int WireType, ulong Scalar, byte[] Bytes)
{
    public long Int64 => unchecked((long)Scalar);
    public double Double => BitConverter.Int64BitsToDouble(unchecked((long)Scalar));
    public float Float => BitConverter.Int32BitsToSingle(unchecked((int)Scalar));
    public string String => Encoding.UTF8.GetString(Bytes);
}

/// <summary>An independent protobuf decoder for the tests (wire types 0, 1, 2, 5).</summary>
public static class ProtoTestReader
{
    public static List<ProtoField> Parse(ReadOnlySpan<byte> data)
    {
        var fields = new List<ProtoField>();
        int pos = 0;
        while (pos < data.Length)
        {
            ulong key = ReadVarint(data, ref pos);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    fields.Add(new ProtoField(number, wire, ReadVarint(data, ref pos), []));
                    break;
                case 1:
                    fields.Add(new ProtoField(number, wire, BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]), []));
                    pos += 8;
                    break;
                case 2:
                    int length = checked((int)ReadVarint(data, ref pos));
                    fields.Add(new ProtoField(number, wire, 0, data.Slice(pos, length).ToArray()));
                    pos += length;
                    break;
                case 5:
                    fields.Add(new ProtoField(number, wire, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]), []));
                    pos += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire} at byte {pos}");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
