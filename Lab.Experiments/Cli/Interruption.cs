using System.Runtime.InteropServices;

namespace Lab.Experiments.Cli;

/// <summary>
/// SIGINT and SIGTERM: the running experiment's staging folder is removed and the process exits with 130 or 143
/// (128 + the signal's number, as a shell reports it). Installed by <see cref="Program.Main"/> only, so in-process
/// callers (tests, `all`) keep the default handling. <see cref="Gate"/> keeps a signal from cutting a commit in two:
/// the handler waits for a swap in progress to finish, and a commit waits for a handler in progress (forever: the
/// handler ends the process).
/// </summary>
public static partial class Interruption
{
    public static readonly object Gate = new();
    private static readonly List<Action> Cleanups = [], Finals = [];
    private static volatile int s_exitCode;

    /// <summary>True once a signal is being handled: the main thread's own error report is then left out.</summary>
    public static bool Requested => s_exitCode != 0;

    public static IDisposable Install(TextWriter error)
    {
        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }
            .Select(s => PosixSignalRegistration.Create(s, c => Handle(c, error))).ToArray();
        return new Disposer(() => { foreach (var r in registrations) r.Dispose(); });
    }

    /// <summary>
    /// Runs <paramref name="cleanup"/> if a signal arrives before the returned handle is disposed, and <paramref name="final"/>
    /// just before the process ends (e.g. removing a placeholder that kept the main thread from writing meanwhile).
    /// </summary>
    public static IDisposable OnSignal(Action cleanup, Action? final = null)
    {
        lock (Gate)
        {
            Cleanups.Add(cleanup);
            if (final is not null) Finals.Add(final);
        }
        return new Disposer(() =>
        {
            lock (Gate)
            {
                Cleanups.Remove(cleanup);
                if (final is not null) Finals.Remove(final);
            }
        });
    }

    /// <summary>Blocks the main thread while a signal handler finishes and ends the process itself.</summary>
    public static void WaitIfRequested()
    {
        if (Requested) Thread.Sleep(Timeout.Infinite);
    }

    private static void Handle(PosixSignalContext context, TextWriter error)
    {
        context.Cancel = true;
        int code = context.Signal == PosixSignal.SIGINT ? 130 : 143;
        lock (Gate)
        {
            s_exitCode = code;
            RunAll(Cleanups);
        }
        error.WriteLine($"interrupted by {context.Signal}; no partial results were kept.");
        // The main thread keeps running until the process ends: end it right after the last step, without
        // Environment.Exit's shutdown work, during which the run could still write.
        lock (Gate) RunAll(Finals);
        ExitNow(code);
    }

    private static void RunAll(List<Action> actions)
    {
        foreach (var action in actions.ToArray())
        {
            try { action(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private static void ExitNow(int code)
    {
        try { SysExit(code); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        Environment.Exit(code);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void SysExit(int code);

    private sealed class Disposer(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
