using System.Security.Cryptography;
using System.Text;
using Lab.Core.Nn;
using Lab.Core.Tests.IO;
using Lab.Core.Training;
using Xunit;

namespace Lab.Core.Tests.Training;

/// <summary>Files written by hand, with a valid checksum, that lie about their contents: each gives the checkpoint error.</summary>
public class HandMadeCheckpointTests
{
    /// <summary>A version-1 file with one tensor of the given dimensions, <paramref name="values"/> floats of data, and metadata.</summary>
    private static byte[] File1(int[] dims, int values, uint? metaLength = null, string meta = "{}", string tensor = "model/weight")
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("GLCKPT\r\n"u8);
            w.Write(1u);
            w.Write(1u);
            var name = Encoding.UTF8.GetBytes(tensor);
            w.Write((ushort)name.Length);
            w.Write(name);
            w.Write((byte)dims.Length);
            foreach (var d in dims) w.Write(d);
            for (int i = 0; i < values; i++) w.Write(0.5f);
            var metaBytes = Encoding.UTF8.GetBytes(meta);
            w.Write(metaLength ?? (uint)metaBytes.Length);
            w.Write(metaBytes);
        }
        var bytes = body.ToArray();
        return [.. bytes, .. SHA256.HashData(bytes)];
    }

    public static TheoryData<string, int[], int, uint?, string> Cases => new()
    {
        // Products that overflow a long, exceed any array, or overflow an int when multiplied by 4.
        { "overflowing product", [1 << 30, 1 << 30, 1 << 30, 8], 4, null, "{}" },
        { "more than an array holds", [int.MaxValue, int.MaxValue], 4, null, "{}" },
        { "huge single dimension", [int.MaxValue], 4, null, "{}" },
        { "zero then huge", [0, int.MaxValue, int.MaxValue, int.MaxValue], 0, null, "{}" },
        { "negative dimension", [-1], 0, null, "{}" },
        { "metadata length near int.MaxValue", [2], 2, int.MaxValue - 8, "{}" },
        { "metadata length above int.MaxValue", [2], 2, uint.MaxValue, "{}" },
        { "metadata not JSON", [2], 2, null, "{not json" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GivesTheCheckpointErrorNamingTheFile(string what, int[] dims, int values, uint? metaLength, string meta)
    {
        using var tmp = new TempDirectory();
        var path = tmp.File(what.Replace(' ', '-') + ".ckpt");
        File.WriteAllBytes(path, File1(dims, values, metaLength, meta));
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, new Linear(2, 1)));
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void NullCollectionsInTheMetadataReadAsEmpty()
    {
        using var tmp = new TempDirectory();
        var model = new Linear(1, 1, bias: false);
        var path = tmp.File("nulls.ckpt");
        File.WriteAllBytes(path, File1([1, 1], 1, meta: """{"Epoch":3,"Generators":null,"Arrays":null,"Notes":null}""",
            tensor: "model/" + model.StateDict().Single().Name));
        var info = Checkpoint.Load(path, model);
        Assert.Equal(3, info.Epoch);
        Assert.Empty(info.Generators);
        Assert.Empty(info.Arrays);
        Assert.Empty(info.Notes);
        Assert.Equal([0.5f], model.Parameters().Single().ToArray());
    }
}
