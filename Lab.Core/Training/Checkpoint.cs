using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lab.Core.Autodiff;
using Lab.Core.IO;
using Lab.Core.Nn;
using Lab.Core.Optim;

namespace Lab.Core.Training;

/// <summary>What a checkpoint records beside the tensors: where training was, and any state to resume exactly.</summary>
public sealed class CheckpointInfo
{
    public int Epoch { get; set; }
    public long OptimizerSteps { get; set; }
    public float LearningRate { get; set; }
    /// <summary>Random generator states by name (data shuffling, dropout ...), so a resumed run draws the same numbers.</summary>
    public Dictionary<string, ulong[]> Generators { get; set; } = [];
    /// <summary>Integer arrays by name (e.g. the data loader's current order).</summary>
    public Dictionary<string, int[]> Arrays { get; set; } = [];
    public Dictionary<string, string> Notes { get; set; } = [];
}

/// <summary>Raised when a checkpoint file cannot be used; the message names the file and the problem.</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// GenLab checkpoint format, version 1 (little-endian):
/// <code>
/// "GLCKPT\r\n"                      8-byte magic
/// u32 version (1)
/// u32 tensor count, then per tensor:
///     u16 name length, UTF-8 name ("model/conv1.weight", "optim/0.m")
///     u8 rank, i32 dims[rank], f32 data[product of dims]
/// u32 metadata length, UTF-8 JSON of <see cref="CheckpointInfo"/>
/// 32-byte SHA-256 of every byte before it
/// </code>
/// Files are written atomically (temporary file, flush, rename); a load verifies magic, version,
/// length and checksum before touching the model, then every name and shape.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "GLCKPT\r\n"u8.ToArray();
    public const int Version = 1;

    public static void Save(string path, Module model, Optimizer? optimizer = null, CheckpointInfo? info = null)
    {
        info ??= new CheckpointInfo();
        if (optimizer is not null) { info.OptimizerSteps = optimizer.Steps; info.LearningRate = optimizer.LearningRate; }
        var entries = Entries(model, optimizer).ToList();
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)Version);
            w.Write((uint)entries.Count);
            foreach (var (name, t) in entries)
            {
                var nameBytes = Encoding.UTF8.GetBytes(name);
                w.Write((ushort)nameBytes.Length);
                w.Write(nameBytes);
                w.Write((byte)t.Rank);
                foreach (var d in t.Shape) w.Write(d);
                var data = t.ToArray();
                var bytes = new byte[data.Length * 4];
                for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), data[i]);
                w.Write(bytes);
            }
            var meta = JsonSerializer.SerializeToUtf8Bytes(info);
            w.Write((uint)meta.Length);
            w.Write(meta);
        }
        var hash = SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length));
        AtomicFile.Write(path, s => { s.Write(body.GetBuffer(), 0, (int)body.Length); s.Write(hash); });
    }

    /// <summary>Loads into the model (and optimizer): all or nothing, nothing is changed if the file is unusable.</summary>
    public static CheckpointInfo Load(string path, Module model, Optimizer? optimizer = null)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: checkpoint not found.");
        var bytes = File.ReadAllBytes(path);
        string Fail(string what) => throw new CheckpointException($"{path}: {what}");
        if (bytes.Length < Magic.Length + 8 + 32) Fail($"truncated: {bytes.Length} bytes is shorter than any checkpoint.");
        if (!bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic)) Fail("not a GenLab checkpoint (bad magic number).");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(Magic.Length));
        if (version != Version) Fail($"format version {version} is not supported (this build reads version {Version}).");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        var parsed = Parse(bytes, path, out var info, out bool complete);
        if (!complete) Fail("truncated: the file ends before its declared contents.");
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            Fail("corrupted: checksum mismatch (the file was modified or damaged).");

        var targets = Entries(model, optimizer).ToList();
        foreach (var (name, t) in targets)
        {
            if (!parsed.TryGetValue(name, out var entry)) Fail($"has no tensor '{name}' (it holds {parsed.Count} tensors; is it from another model?).");
            if (!entry.Shape.AsSpan().SequenceEqual(t.Shape))
                Fail($"tensor '{name}' has shape {ShapeUtil.Format(entry.Shape)} in the file but {ShapeUtil.Format(t.Shape)} in the model.");
        }
        var unexpected = parsed.Keys.Except(targets.Select(t => t.Name)).Where(n => optimizer is not null || n.StartsWith("model/", StringComparison.Ordinal)).ToList();
        if (unexpected.Count > 0) Fail($"holds tensors the model does not have: {string.Join(", ", unexpected.Take(5))}.");

        using (new NoGrad())
            foreach (var (name, t) in targets) t.CopyFrom(parsed[name].Data);
        if (optimizer is not null) { optimizer.Steps = info.OptimizerSteps; optimizer.LearningRate = info.LearningRate; }
        return info;
    }

    private static IEnumerable<(string Name, Tensor Tensor)> Entries(Module model, Optimizer? optimizer)
    {
        foreach (var (n, t) in model.StateDict()) yield return ("model/" + n, t);
        if (optimizer is null) yield break;
        foreach (var (n, t) in optimizer.State()) yield return ("optim/" + n, t);
    }

    private static Dictionary<string, (int[] Shape, float[] Data)> Parse(byte[] bytes, string path, out CheckpointInfo info, out bool complete)
    {
        var result = new Dictionary<string, (int[], float[])>();
        info = new CheckpointInfo();
        complete = false;
        int end = bytes.Length - 32, pos = Magic.Length + 4;
        bool Need(long n) => pos + n <= end;   // long: a hand-made length near int.MaxValue must not wrap
        if (!Need(4)) return result;
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos)); pos += 4;
        for (uint e = 0; e < count; e++)
        {
            if (!Need(2)) return result;
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(pos)); pos += 2;
            if (!Need(nameLen + 1)) return result;
            var name = Encoding.UTF8.GetString(bytes, pos, nameLen); pos += nameLen;
            int rank = bytes[pos++];
            if (!Need(4 * rank)) return result;
            var shape = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                shape[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(pos)); pos += 4;
                if (shape[i] < 0) throw new CheckpointException($"{path}: corrupted: tensor '{name}' has a negative dimension.");
            }
            // The product is compared with what the file can still hold as it is formed, so that dimensions whose
            // product overflows (or exceeds any array) read as a file too short for them, like any truncation.
            long numel = shape.Contains(0) ? 0 : 1, room = (end - pos) / 4;
            foreach (var d in shape)
            {
                if (numel > room / Math.Max(d, 1)) return result;
                numel *= d;
            }
            var data = new float[numel];
            for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(pos + 4 * i));
            pos += (int)numel * 4;
            result[name] = (shape, data);
        }
        if (!Need(4)) return result;
        int metaLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos)); pos += 4;
        if (metaLen < 0 || !Need(metaLen)) return result;
        try { info = JsonSerializer.Deserialize<CheckpointInfo>(bytes.AsSpan(pos, metaLen)) ?? new CheckpointInfo(); }
        catch (JsonException) { return result; }
        // JSON may say null where the type promises a collection.
        info.Generators ??= [];
        info.Arrays ??= [];
        info.Notes ??= [];
        pos += metaLen;
        complete = pos == end;
        return result;
    }
}
