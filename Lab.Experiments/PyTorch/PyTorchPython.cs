using System.Diagnostics;
using System.Text;

namespace Lab.Experiments.PyTorch;

/// <summary>
/// A Python interpreter that imports torch, and the recipes in bench/pytorch it runs. Found as Lab.Bench finds one
/// ($GENLAB_PYTHON, then Debian's /usr/bin/python3, then python3 and python on PATH), except that a $GENLAB_PYTHON is the
/// only one tried: a Python named on purpose that cannot import torch is reported, not silently replaced by another.
/// </summary>
public sealed record PyTorchPython(string Executable, string TorchVersion)
{
    public const string PythonVariable = "GENLAB_PYTHON";

    private static readonly Lazy<(PyTorchPython? Python, string Reason)> Cached = new(() =>
    {
        var python = Find(Candidates(), out var reason);
        return (python, reason);
    });

    /// <summary>The interpreters tried, in order: $GENLAB_PYTHON alone when set, else /usr/bin/python3, python3, python.</summary>
    public static IReadOnlyList<string> Candidates() =>
        Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } chosen ? [chosen] : ["/usr/bin/python3", "python3", "python"];

    /// <summary>The first of <see cref="Candidates"/> that imports torch, looked for once per process; null with the reason when none does.</summary>
    public static PyTorchPython? Find(out string reason)
    {
        var (python, why) = Cached.Value;
        reason = why;
        return python;
    }

    /// <summary>The first candidate that imports torch; null with the reason, naming every candidate and what it said, when none does.</summary>
    public static PyTorchPython? Find(IReadOnlyList<string> candidates, out string reason)
    {
        var tried = new List<string>();
        foreach (var python in candidates.Distinct())
        {
            var r = Run(python, ["-c", "import torch; print(torch.__version__)"], threads: 1, TimeSpan.FromSeconds(120), _ => { });
            var version = r.Stdout.Trim();
            if (r.ExitCode == 0 && version.Length > 0)
            {
                reason = "";
                return new PyTorchPython(python, version);
            }
            tried.Add(r.ExitCode == NotStarted ? $"{python} (not found)" : $"{python} ({LastLine(r.Stderr)})");
        }
        reason = $"torch not importable by {string.Join(", ", tried)}: apt-get install python3-torch" +
                 (candidates.Count == 1 ? "" : $", or set {PythonVariable} to a Python that imports torch");
        return null;
    }

    /// <summary>
    /// bench/pytorch/<paramref name="script"/> in the GenLab checkout above the working folder or above this program;
    /// null with the reason when there is none (a GenLab installed without its sources).
    /// </summary>
    public static string? Recipe(string script, out string reason)
    {
        var starts = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory };
        foreach (var start in starts)
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var path = Path.Combine(d.FullName, "bench", "pytorch", script);
                if (File.Exists(path)) { reason = ""; return path; }
            }
        reason = $"bench/pytorch/{script} not found above {string.Join(" or ", starts.Distinct())}: run GenLab from its source checkout";
        return null;
    }

    public const int NotStarted = -1, TimedOut = 124;

    /// <summary>What a child process did: its exit code (<see cref="NotStarted"/>, <see cref="TimedOut"/>), its output and its error stream.</summary>
    public sealed record ChildResult(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs this Python on a script; each line it prints goes to <paramref name="onLine"/> as it comes.</summary>
    public ChildResult RunScript(string script, IReadOnlyList<string> args, int threads, TimeSpan timeout, Action<string> onLine) =>
        Run(Executable, [script, .. args], threads, timeout, onLine);

    /// <summary>
    /// The child's environment, as bench/pytorch/README.md sets it: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed (set for
    /// GenLab's host, they mislead Debian's OpenBLAS inside torch), one BLAS thread under <paramref name="threads"/> OpenMP
    /// threads, and no __pycache__ left in the checkout.
    /// </summary>
    private static ChildResult Run(string file, IReadOnlyList<string> args, int threads, TimeSpan timeout, Action<string> onLine)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("OPENBLAS_CORETYPE");
        psi.Environment.Remove("OPENBLAS_L2_SIZE");
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        psi.Environment["MKL_NUM_THREADS"] = "1";
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { return new ChildResult(NotStarted, "", "not found"); }
        using (process)
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (stdout) stdout.AppendLine(e.Data);
                onLine(e.Data);
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new ChildResult(TimedOut, stdout.ToString(), $"{stderr}\nstopped after {timeout.TotalMinutes:0} minutes");
            }
            process.WaitForExit(); // drains the redirected streams
            return new ChildResult(process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }

    /// <summary>The last few lines of a child's error stream, on one line: a Python traceback ends with the error itself.</summary>
    public static string Tail(string text, int lines = 6)
    {
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return all.Length == 0 ? "no error output" : string.Join(" | ", all.TakeLast(lines));
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
}
