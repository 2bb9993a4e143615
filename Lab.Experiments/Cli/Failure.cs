using System.Reflection;
using Lab.Core.Backends;
using Lab.Core.Training;
using Lab.Experiments.Output;

namespace Lab.Experiments.Cli;

/// <summary>
/// The one error path: every failure becomes one line naming what was wrong and where, and an exit code:
/// 2 when the input cannot work as given (an option, the output folder, a missing device, a malformed data file or
/// checkpoint), 1 when the run itself failed (a full disk, a missing library, non-finite values, a bug). The stack trace goes to the
/// run log, and to the console only with --verbose.
/// </summary>
public static class Failure
{
    public static int ExitCode(Exception e) => Unwrap(e) switch
    {
        UsageException or DeviceUnavailableException or InvalidDataException or CheckpointException => 2,
        OutputFolderException o => o.ExitCode,
        _ => 1,
    };

    /// <summary>
    /// For a failure before any work (options, device, output paths): what the user gave cannot work, so 2, unless the
    /// disk is full or the exception is a bug (1).
    /// </summary>
    public static int SetupExitCode(Exception e) => Unwrap(e) switch
    {
        OutputFolderException o => o.ExitCode,
        IOException io when IsDiskFull(io) => 1,
        UsageException or DeviceUnavailableException or ArgumentException or IOException or UnauthorizedAccessException => 2,
        _ => 1,
    };

    /// <summary>The message on one line; the exception's type only where the message alone would not say what happened.</summary>
    public static string Describe(Exception e)
    {
        e = Unwrap(e);
        var message = OneLine(e.Message);
        return e switch
        {
            UsageException or DeviceUnavailableException or OutputFolderException or NonFiniteException or CheckpointException => message,
            IOException when IsDiskFull(e) => $"the disk is full: {message}",
            IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or InvalidOperationException => message,
            DllNotFoundException => $"a library is missing: {message}",
            _ => $"{e.GetType().Name}: {message}",
        };
    }

    /// <summary>ENOSPC (28) and EDQUOT (122), which .NET reports as IOException with the errno as HResult.</summary>
    public static bool IsDiskFull(Exception e) =>
        e is IOException && (e.HResult is 28 or 122 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
                             || e.Message.Contains("quota exceeded", StringComparison.OrdinalIgnoreCase));

    public static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is TargetInvocationException { InnerException: { } inner }) e = inner;
            else if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else return e;
        }
    }
}
