using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>Readers and checks for what the experiments write.</summary>
public static class Files
{
    public static Dictionary<string, JsonElement> Metrics(string dir)
    {
        var path = Path.Combine(dir, "metrics.json");
        Assert.True(File.Exists(path), $"{path} is missing");
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path))!;
    }

    /// <summary>Each key exists and holds a finite number.</summary>
    public static void AssertFinite(Dictionary<string, JsonElement> metrics, params string[] keys)
    {
        foreach (var k in keys)
        {
            Assert.True(metrics.TryGetValue(k, out var v), $"metrics.json has no '{k}' (it has {string.Join(", ", metrics.Keys)})");
            Assert.True(v.ValueKind == JsonValueKind.Number, $"'{k}' is {v.ValueKind}: {v}");
            Assert.True(double.IsFinite(v.GetDouble()), $"'{k}' = {v} is not finite");
        }
    }

    public static (string[] Header, double[][] Rows) Csv(string path)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        Assert.NotEmpty(lines);
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        foreach (var r in rows) Assert.Equal(header.Length, r.Length);
        return (header, rows);
    }

    public static void AssertPng(string path) => AssertStartsWith(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

    public static void AssertGif(string path) => AssertStartsWith(path, "GIF89a"u8.ToArray());

    public static void AssertSvg(string path)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        var text = File.ReadAllText(path);
        Assert.Contains("<svg", text);
        Assert.Contains("</svg>", text);
    }

    private static void AssertStartsWith(string path, byte[] signature)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > signature.Length && bytes.AsSpan(0, signature.Length).SequenceEqual(signature), $"{path} does not start with the expected signature");
    }

    /// <summary>Every file under a folder with its bytes, keyed by relative path.</summary>
    public static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);
}
