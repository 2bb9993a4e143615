namespace Lab.Core.Tests;

/// <summary>Keeps a README code block and the test that runs it the same code.</summary>
public static class ReadmeExample
{
    /// <summary>
    /// Asserts that the README block starting at the line that begins with <paramref name="firstLine"/> (up to its closing
    /// fence) equals the lines between "// ---- README begins" and "// ---- README ends" in <paramref name="testFile"/>
    /// (a path below tests/Lab.Core.Tests), ignoring indentation and blank lines.
    /// </summary>
    public static void AssertSameAsTest(string firstLine, params string[] testFile)
    {
        static string[] Code(IEnumerable<string> lines) => [.. lines.Select(l => l.Trim()).Where(l => l.Length > 0)];
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "README.md")) || !Directory.Exists(Path.Combine(root, "Lab.Core"))) root = Path.GetDirectoryName(root)!;
        var readme = File.ReadAllLines(Path.Combine(root, "README.md"));
        int start = Array.FindIndex(readme, l => l.StartsWith(firstLine, StringComparison.Ordinal));
        Assert.True(start > 0, $"README has no line starting with '{firstLine}'");
        int end = Array.FindIndex(readme, start, l => l.StartsWith("```", StringComparison.Ordinal));
        var test = File.ReadAllLines(Path.Combine([root, "tests", "Lab.Core.Tests", .. testFile]));
        int from = Array.FindIndex(test, l => l.Contains("// ---- README begins")) + 1;
        int to = Array.FindIndex(test, l => l.Contains("// ---- README ends"));
        Assert.True(from > 0 && to > from, "README markers not found in the test");
        Assert.Equal(Code(readme[start..end]), Code(test[from..to]));
    }
}
