using System.Diagnostics;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>
/// One `all --quick` run into a temporary folder, shared by the tests that inspect its files, plus
/// `mnist --synthetic --quick` (which `all` skips when no IDX data is installed).
/// </summary>
public sealed class QuickRun : IDisposable
{
    private readonly TempFolder _folder = new();

    public QuickRun()
    {
        var clock = Stopwatch.StartNew();
        All = Cli.Run("all", "--quick", "--out", Root);
        AllSeconds = clock.Elapsed.TotalSeconds;
        Synthetic = Cli.Run("mnist", "--synthetic", "--quick", "--out", Path.Combine(Root, "mnist-synthetic"));
    }

    public string Root => _folder.Path;
    public Cli.Result All { get; }
    public double AllSeconds { get; }
    public Cli.Result Synthetic { get; }
    public string Dir(string experiment) => Path.Combine(Root, experiment);
    public void Dispose() => _folder.Dispose();
}

[CollectionDefinition(Name)]
public sealed class QuickCollection : ICollectionFixture<QuickRun>
{
    public const string Name = "quick runs";
}
