using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>
/// The real program in its own process (`dotnet Lab.Experiments.dll ...`), for what only a process shows: signals,
/// kills, the exit code of Main, two runs at once. The DLL is the one the build copies beside the tests (with its
/// runtimeconfig.json), so it is always the build under test.
/// </summary>
public static partial class ChildProcess
{
    public sealed record Result(int Code, string Output, string Error);

    public static string Dll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "Lab.Experiments.dll");
            Assert.True(File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")),
                $"{dll} (and its runtimeconfig.json) should be copied beside the tests by the project reference");
            return dll;
        }
    }

    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    public static Result Run(string workingDirectory, params string[] args) => Finish(Start(workingDirectory, null, args));

    /// <summary>Waits (at most two minutes) and collects the output.</summary>
    public static Result Finish(Process p)
    {
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the child process did not finish within two minutes");
        }
        return new Result(p.ExitCode, output.Result, error.Result);
    }

    /// <summary>Sends a POSIX signal (SIGINT 2, SIGTERM 15, SIGKILL 9).</summary>
    public static void Signal(Process p, int signal) => Assert.Equal(0, Kill(p.Id, signal));

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Polls until <paramref name="condition"/> holds (at most a minute).</summary>
    public static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"timed out waiting until {what}");
            Thread.Sleep(20);
        }
    }
}
