using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Lab.Core.Tests.Cuda;

/// <summary>Finds the kernel sources, regenerates their PTX with clang-14, and reads kernel signatures from PTX.</summary>
public static partial class PtxBuild
{
    /// <summary>The repository's Lab.Core/Cuda/kernels folder, found upwards from the test binaries.</summary>
    public static string KernelDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Lab.Core", "Cuda", "kernels");
            if (File.Exists(Path.Combine(candidate, "build-ptx.sh"))) return candidate;
        }
        throw new DirectoryNotFoundException($"Lab.Core/Cuda/kernels not found above {AppContext.BaseDirectory}.");
    }

    public static string? Clang()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, "clang-14");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Runs build-ptx.sh into <paramref name="outDir"/>; returns its exit code and error output.</summary>
    public static (int ExitCode, string Errors) Build(string outDir)
    {
        var psi = new ProcessStartInfo("bash", [Path.Combine(KernelDir(), "build-ptx.sh"), outDir])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var p = Process.Start(psi)!;
        var errors = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, errors);
    }

    /// <summary>Each .entry of a PTX module with its parameters in the launch-signature alphabet (p, i, f, [N]).</summary>
    public static Dictionary<string, string> Entries(string ptx)
    {
        var result = new Dictionary<string, string>();
        foreach (Match m in EntryPattern().Matches(ptx))
        {
            var sig = new System.Text.StringBuilder();
            foreach (Match p in ParamPattern().Matches(m.Groups["params"].Value))
            {
                if (p.Groups["bytes"].Success) sig.Append('[').Append(p.Groups["bytes"].Value).Append(']');
                else sig.Append(p.Groups["type"].Value switch { "u64" or "b64" => 'p', "u32" or "b32" or "s32" => 'i', "f32" => 'f', var t => throw new FormatException($"PTX parameter type .{t}") });
            }
            result[m.Groups["name"].Value] = sig.ToString();
        }
        return result;
    }

    [GeneratedRegex(@"\.entry\s+(?<name>\w+)\s*\((?<params>[^)]*)\)")]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"\.param\s+(?:\.align\s+\d+\s+\.b8\s+\w+\[(?<bytes>\d+)\]|\.(?<type>\w+)\s+\w+)")]
    private static partial Regex ParamPattern();
}
