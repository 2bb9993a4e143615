using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Lab.Core.Logging;

/// <summary>
/// The logger every run uses: short human-readable lines on the console, and every event as one compact JSON
/// object per line in <c>&lt;outDir&gt;/run.log.jsonl</c>, so a run can be read by eye and by a script.
/// </summary>
public static class RunLog
{
    /// <summary>Name of the JSON-lines file inside the output directory.</summary>
    public const string FileName = "run.log.jsonl";

    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Creates the logger; dispose it at the end of the run to flush and close the file. The file receives
    /// <see cref="LogEventLevel.Debug"/> and up; the console <paramref name="consoleLevel"/> and up (or nothing
    /// when <paramref name="console"/> is false, e.g. in tests).
    /// </summary>
    public static Logger Create(string outDir, LogEventLevel consoleLevel = LogEventLevel.Information, bool console = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        Directory.CreateDirectory(outDir);
        var config = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .WriteTo.File(new CompactJsonFormatter(), Path.Combine(outDir, FileName));
        if (console)
        {
            config = config.WriteTo.Console(restrictedToMinimumLevel: consoleLevel, outputTemplate: ConsoleTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        return config.CreateLogger();
    }
}
