using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace Lab.Experiments.Logging;

/// <summary>
/// The log every run keeps: Serilog behind Microsoft.Extensions.Logging (the library side, Lab.Core, logs through
/// the abstractions), every event as one compact JSON object per line in <c>&lt;outDir&gt;/run.log.jsonl</c> so a
/// run can be read by a script, and short human-readable lines on the console when asked for. Dispose it at the end
/// of the run to flush and close the file.
/// </summary>
public sealed class RunLog : IDisposable
{
    /// <summary>Name of the JSON-lines file inside the output directory.</summary>
    public const string FileName = "run.log.jsonl";

    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    private readonly Serilog.Core.Logger _serilog;

    private RunLog(Serilog.Core.Logger serilog)
    {
        _serilog = serilog;
        Factory = new SerilogLoggerFactory(serilog, dispose: false);
    }

    /// <summary>Loggers for the run: give them to library code (e.g. <see cref="Lab.Core.Training.EpochLogger"/>).</summary>
    public ILoggerFactory Factory { get; }

    /// <summary>
    /// Starts the log in <paramref name="outDir"/> (created if needed). The file receives Debug and up; the console
    /// <paramref name="consoleLevel"/> and up when <paramref name="console"/> is set (the experiments print their
    /// own progress, so they leave it off).
    /// </summary>
    public static RunLog Create(string outDir, bool console = false, LogEventLevel consoleLevel = LogEventLevel.Information)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        Directory.CreateDirectory(outDir);
        var config = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .WriteTo.File(new CompactJsonFormatter(), Path.Combine(outDir, FileName));
        if (console)
            config = config.WriteTo.Console(restrictedToMinimumLevel: consoleLevel, outputTemplate: ConsoleTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        return new RunLog(config.CreateLogger());
    }

    /// <summary>Flushes and closes the file (on a full disk this throws, like any other write).</summary>
    public void Dispose()
    {
        Factory.Dispose();
        _serilog.Dispose();
    }
}
