namespace Lab.Experiments.Cli;

/// <summary>A bad command line: printed with the usage hint, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
