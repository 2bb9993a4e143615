using System.Buffers.Binary;
using System.IO.Compression;
using Lab.Core.IO;

namespace Lab.Core.Data.Files;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, type code, dimension count), one big-endian
/// int32 per dimension, then the values. Only unsigned bytes (type 0x08) are supported: 3 dimensions for images
/// (magic 0x00000803), 1 for labels (0x00000801). Files may be gzip-compressed; that is detected from the content.
/// Every inconsistency raises <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class IdxFile
{
    /// <summary>Magic number of an unsigned-byte file with 3 dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte file with 1 dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    private const byte UnsignedByte = 0x08;

    // x / 255f for every byte, computed once: exact division, and no per-pixel divide in the loop.
    private static readonly float[] ByteToUnit = BuildByteToUnit();

    /// <summary>Reads an image file (magic 0x00000803).</summary>
    public static IdxImages ReadImages(string path)
    {
        var (dims, memory) = Read(path, expectedDims: 3, "images");
        ReadOnlySpan<byte> values = memory.Span;
        var pixels = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            pixels[i] = ByteToUnit[values[i]];
        }
        return new IdxImages(pixels, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads a label file (magic 0x00000801). Values are returned as they are (0..255).</summary>
    public static int[] ReadLabels(string path)
    {
        ReadOnlySpan<byte> values = Read(path, expectedDims: 1, "labels").Values.Span;
        var labels = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            labels[i] = values[i];
        }
        return labels;
    }

    /// <summary>
    /// Reads an image file and its label file and checks they hold the same number of items and, when
    /// <paramref name="classCount"/> is given, that every label is a class 0..classCount-1.
    /// </summary>
    public static IdxLabeledImages ReadPair(string imagesPath, string labelsPath, int? classCount = null)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (classCount is int classes) CheckLabels(labels, classes, labelsPath);
        if (labels.Length != images.Count)
        {
            throw new InvalidDataException(
                $"{imagesPath} has {images.Count} images but {labelsPath} has {labels.Length} labels.");
        }
        return new IdxLabeledImages(images.Pixels, labels, images.Count, images.Rows, images.Columns);
    }

    /// <summary>Throws naming <paramref name="path"/> and the item when a label is outside 0..classCount-1.</summary>
    public static void CheckLabels(ReadOnlySpan<int> labels, int classCount, string path)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new InvalidDataException(
                    $"{path}: label of item {i} is {labels[i]}, outside the {classCount} classes 0..{classCount - 1}.");
            }
        }
    }

    /// <summary>
    /// Writes an unsigned-byte IDX file with the given dimensions (the product must equal the data length).
    /// Gzip-compressed when <paramref name="gzip"/> is true, or, when it is null, when the name ends in ".gz".
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> data, ReadOnlySpan<int> dims, bool? gzip = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (dims.Length is < 1 or > 255)
        {
            throw new ArgumentException($"IDX needs 1..255 dimensions, got {dims.Length}.", nameof(dims));
        }
        long product = 1;
        foreach (int d in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(dims));
            product *= d;
        }
        if (product != data.Length)
        {
            throw new ArgumentException(
                $"Dimensions {string.Join("x", dims.ToArray())} = {product} values but data has {data.Length} bytes.", nameof(data));
        }

        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = UnsignedByte;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        }
        data.CopyTo(bytes.AsSpan(4 + 4 * dims.Length));

        bool compress = gzip ?? path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        AtomicFile.Write(path, stream =>
        {
            if (!compress)
            {
                stream.Write(bytes);
                return;
            }
            using var zip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
            zip.Write(bytes);
        });
    }

    /// <summary>Writes images given as floats in [0, 1] (rounded to the nearest of 0..255, clamped).</summary>
    public static void WriteImages(string path, ReadOnlySpan<float> pixels, int count, int rows, int columns, bool? gzip = null)
    {
        var bytes = new byte[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            bytes[i] = (byte)Math.Clamp(MathF.Round(pixels[i] * 255f), 0f, 255f);
        }
        Write(path, bytes, [count, rows, columns], gzip);
    }

    /// <summary>Writes labels 0..255.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<int> labels, bool? gzip = null)
    {
        var bytes = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] > byte.MaxValue)
            {
                throw new ArgumentException($"Label {i} is {labels[i]}; IDX unsigned-byte labels must be 0..255.", nameof(labels));
            }
            bytes[i] = (byte)labels[i];
        }
        Write(path, bytes, [labels.Length], gzip);
    }

    private static (int[] Dims, ReadOnlyMemory<byte> Values) Read(string path, int expectedDims, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] file = MaybeGzip.ReadAllBytes(path);

        if (file.Length < 4)
        {
            throw new InvalidDataException($"{path}: truncated: {file.Length} bytes, too short for the 4-byte IDX magic.");
        }
        int magic = BinaryPrimitives.ReadInt32BigEndian(file);
        if (file[0] != 0 || file[1] != 0)
        {
            throw new InvalidDataException($"{path}: wrong magic 0x{magic:X8}: an IDX file starts with two zero bytes.");
        }
        if (file[2] != UnsignedByte)
        {
            throw new InvalidDataException(
                $"{path}: unsupported type code 0x{file[2]:X2} ({TypeName(file[2])}); only 0x08 (unsigned byte) is supported.");
        }
        if (file[3] != expectedDims)
        {
            throw new InvalidDataException(
                $"{path}: magic 0x{magic:X8} says {file[3]} dimensions, but {kind} need {expectedDims} (magic 0x{0x800 + expectedDims:X8}).");
        }

        int headerBytes = 4 + 4 * expectedDims;
        if (file.Length < headerBytes)
        {
            throw new InvalidDataException(
                $"{path}: truncated: the header needs {headerBytes} bytes ({expectedDims} dimensions), file has {file.Length}.");
        }
        var dims = new int[expectedDims];
        long expected = 1;
        for (int i = 0; i < expectedDims; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(4 + 4 * i));
            // Count may be 0 (an empty set); an image side of 0 or anything negative is a broken header.
            if (dims[i] < 0 || (i > 0 && dims[i] == 0))
            {
                throw new InvalidDataException($"{path}: inconsistent dimensions: dimension {i} is {dims[i]}.");
            }
            expected *= dims[i];
            if (expected > Array.MaxLength)
            {
                throw new InvalidDataException(
                    $"{path}: inconsistent dimensions: {string.Join("x", dims[..(i + 1)])} is more values than an array can hold.");
            }
        }

        long actual = file.Length - headerBytes;
        string shape = string.Join("x", dims);
        string valueName = kind == "images" ? "pixels" : "labels";
        if (actual < expected)
        {
            throw new InvalidDataException(
                $"{path}: truncated: header says {shape} = {expected} bytes of {valueName}, file has {actual}.");
        }
        if (actual > expected)
        {
            throw new InvalidDataException(
                $"{path}: trailing garbage: header says {shape} = {expected} bytes of {valueName}, file has {actual - expected} more.");
        }
        return (dims, file.AsMemory(headerBytes));
    }

    private static string TypeName(byte code) => code switch
    {
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "not an IDX type",
    };

    private static float[] BuildByteToUnit()
    {
        var table = new float[256];
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = i / 255f;
        }
        return table;
    }
}
