using System.Diagnostics;

namespace Lab.Bench.Tests;

/// <summary>
/// Lab.Bench as its own process (`dotnet Lab.Bench.dll ...`, the build copied beside the tests): every bad command
/// line is one line and exit code 2, never a stack trace or a hang, and results/bench files GenLab did not write are
/// refused before any measurement.
/// </summary>
public class CommandLineTests
{
    [Theory]
    [InlineData("unknown command 'nope'", "nope")]
    [InlineData("--batch expects a positive integer up to 4096, got '2000000000'", "throughput", "--batch", "2000000000", "--no-save")]
    [InlineData("--seconds expects a positive number of seconds from 0.01 to 3600, got '1e308'", "throughput", "--seconds", "1e308", "--no-save")]
    [InlineData("unknown option '--fast'", "throughput", "--fast")]
    [InlineData("conv-quick: 'chunk=abc' needs an integer from 1 to", "conv-quick", "chunk=abc")]
    [InlineData("conv-quick: 'threads=0' needs an integer from 1 to 1024", "conv-quick", "threads=0")]
    [InlineData("conv-quick: unknown argument 'fast'", "conv-quick", "fast")]
    [InlineData("gemm-quick: 'mpt=0' needs an integer from 1 to", "gemm-quick", "mpt=0")]
    [InlineData("throughput: --device needs a value", "throughput", "--device", "--json")]
    [InlineData("no command given", new string[0])]
    public void BadCommandLinesSayWhatWasWrongAndExitWithTwo(string message, params string[] args)
    {
        using var folder = new Folder();
        var r = Bench(folder.Path, args);
        Assert.Equal(2, r.Code);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.Error, System.Text.RegularExpressions.Regex.Escape(message)));
        Assert.DoesNotContain("   at ", r.Error);
        if (args is [] or ["nope"]) Assert.Contains("usage:", r.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public void HelpListsTheCommandsAndThroughputsOptionsWithTheirDefaults()
    {
        using var folder = new Folder();
        var root = Bench(folder.Path, "--help");
        Assert.Equal(0, root.Code);
        foreach (var command in new[] { "throughput", "gemm-quick", "conv-quick", "bdn" }) Assert.Contains($"  {command} ", root.Output);
        var throughput = Bench(folder.Path, "throughput", "--help");
        Assert.Equal(0, throughput.Code);
        Assert.Matches(@"--seconds <S> +measured seconds per workload and device \[default: 5\]", throughput.Output);
        Assert.Matches(@"--device <cpu\|cuda\|all> .*\[default: cpu\]", throughput.Output);
        Assert.Contains("--no-save", throughput.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public void AUsersFilesInResultsBenchAreRefusedBeforeMeasuringAndGenLabsAreReplaced()
    {
        using var folder = new Folder();
        File.WriteAllText(Path.Combine(folder.Path, "GenLab.sln"), ""); // the repository root the command looks for
        var bench = Path.Combine(folder.Path, "results", "bench");
        Directory.CreateDirectory(bench);
        File.WriteAllText(Path.Combine(bench, "throughput.md"), "my own table");
        string[] quick = ["throughput", "--workloads", "toy_mlp_b10", "--seconds", "0.05", "--warmup", "0.01"];

        var refused = Bench(folder.Path, quick);
        Assert.Equal(2, refused.Code);
        Assert.Contains($"refusing to replace files in {bench}: GenLab did not write throughput.md", refused.Error);
        Assert.DoesNotContain("toy_mlp_b10 on cpu", refused.Output + refused.Error); // nothing measured
        Assert.Equal("my own table", File.ReadAllText(Path.Combine(bench, "throughput.md")));
        Assert.Single(Directory.EnumerateFileSystemEntries(bench));

        File.Delete(Path.Combine(bench, "throughput.md"));
        for (int run = 0; run < 2; run++) // the second run replaces what the first wrote
        {
            var ok = Bench(folder.Path, quick);
            Assert.True(ok.Code == 0, ok.Error);
            Assert.Contains("throughput.md", Lab.Core.IO.RunManifest.Read(bench)!.Files);
            Assert.Contains("toy_mlp_b10", File.ReadAllText(Path.Combine(bench, "throughput.md")));
        }
    }

    [Fact]
    public void StartedWithOpenBlasOverridesItRunsAgainWithoutThemPassingOutputAndExitCodeThrough()
    {
        using var folder = new Folder();
        var env = new Dictionary<string, string?> { ["OPENBLAS_CORETYPE"] = "Haswell", ["OPENBLAS_L2_SIZE"] = "512" };
        var help = Bench(folder.Path, env, "--help");
        Assert.Equal(0, help.Code);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(help.Output, "  gemm-quick "));
        var bad = Bench(folder.Path, env, "throughput", "--rounds", "0", "--no-save");
        Assert.Equal(2, bad.Code);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(bad.Error, "--rounds expects an integer from 1 to 50"));
    }

    internal sealed record Result(int Code, string Output, string Error);

    internal static Result Bench(string workingDirectory, params string[] args) => Bench(workingDirectory, new Dictionary<string, string?>(), args);

    private static Result Bench(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Lab.Bench.dll");
        Assert.True(File.Exists(dll), $"{dll} should be copied beside the tests by the project reference");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"Lab.Bench {string.Join(' ', args)} did not finish within two minutes");
        }
        return new Result(p.ExitCode, output.Result, error.Result);
    }

    internal sealed class Folder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("genlab-bench-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
