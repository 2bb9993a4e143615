using System.Diagnostics;
using System.Reflection;

namespace Lab.Bench;

/// <summary>
/// Peers at their best: some machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which force older OpenBLAS kernels
/// (SGEMM 1024^3 on two threads here: about 186 GFLOP/s with them, 290 without). OpenBLAS reads them when it is loaded,
/// from the native environment, which .NET cannot change for its own process; so Lab.Bench, started with either set,
/// runs itself again as a child without them, and the OpenBLAS columns (gemm-quick, the practical peak, BenchmarkDotNet's
/// SGEMM suite) measure OpenBLAS as installed. GenLab's own kernels read neither variable.
/// </summary>
public static class PeerEnvironment
{
    public static readonly string[] Overrides = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

    /// <summary>The variables set in this process's environment that would hold OpenBLAS back.</summary>
    public static IReadOnlyList<string> Present() =>
        Overrides.Where(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))).ToArray();

    /// <summary>
    /// Under `dotnet Lab.Bench.dll` the host is dotnet and the program its first argument; an apphost (`dotnet run`,
    /// bin/Release/net10.0/Lab.Bench) is the program, and its GetCommandLineArgs()[0] names the .dll too, which the
    /// apphost must not be given: it would be read as the command.
    /// </summary>
    public static bool HostNeedsProgram(string host, string self) =>
        Path.GetFileNameWithoutExtension(host) == "dotnet" && self.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Runs this program again with the same arguments and without <see cref="Overrides"/>, its output passed through, and
    /// returns its exit code; null when there is nothing to remove or this is not the Lab.Bench program (a test host).
    /// </summary>
    public static int? RunWithout(string[] args)
    {
        if (Present().Count == 0 || Assembly.GetEntryAssembly()?.GetName().Name != "Lab.Bench") return null;
        if (Environment.ProcessPath is not string host) return null;
        var psi = new ProcessStartInfo(host) { UseShellExecute = false };
        string self = Environment.GetCommandLineArgs()[0];
        if (HostNeedsProgram(host, self)) psi.ArgumentList.Add(self);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in Overrides) psi.Environment.Remove(v);
        using var child = Process.Start(psi)!;
        child.WaitForExit();
        return child.ExitCode;
    }
}
