using System.Diagnostics;

namespace Lab.Core.Tests.Distributed;

/// <summary>
/// Starts the worker program (tests/Lab.Distributed.Worker, copied beside the tests) on N ranks with Open MPI's
/// mpirun, or alone with plain dotnet. mpirun gets --oversubscribe (more ranks than cores is fine for a test) and,
/// where the tests run as root (containers), --allow-run-as-root.
/// </summary>
public static class MpiRun
{
    public sealed record Result(int Code, string Output);

    public static string? Mpirun { get; } = FindOnPath("mpirun");

    public static string Worker
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "Lab.Distributed.Worker.dll");
            Assert.True(File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")),
                $"{dll} (and its runtimeconfig.json) should be copied beside the tests by the project reference");
            return dll;
        }
    }

    public static Result Ranks(int ranks, params string[] args)
    {
        var info = new ProcessStartInfo(Mpirun ?? throw new InvalidOperationException("mpirun not found"));
        foreach (var a in new[] { "-np", ranks.ToString(), "--oversubscribe" }) info.ArgumentList.Add(a);
        if (Environment.UserName == "root") info.ArgumentList.Add("--allow-run-as-root");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Worker);
        foreach (var a in args) info.ArgumentList.Add(a);
        return Run(info);
    }

    public static Result Alone(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet");
        info.ArgumentList.Add(Worker);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        return Run(info);
    }

    private static Result Run(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{info.FileName} {string.Join(" ", info.ArgumentList)} did not finish within two minutes");
        }
        return new Result(p.ExitCode, output.Result + error.Result);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs Open MPI's mpirun: skipped, with the reason, where it is not installed.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiRun.Mpirun is null) Skip = "mpirun not found: install Open MPI (apt-get install openmpi-bin) to run the 2-rank tests";
    }
}
