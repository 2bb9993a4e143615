using System.Diagnostics;
using Xunit;

namespace Lab.Experiments.Tests;

/// <summary>
/// One `all --quick` run into a temporary folder, shared by the tests that inspect its files, plus
/// `mnist --synthetic --quick`. The `all` run points mnist at a folder without IDX files, so that mnist fails
/// the same way on every machine and the run shows that the other experiments go on regardless.
/// </summary>
public sealed class QuickRun : IDisposable
{
    private readonly TempFolder _folder = new();

    public QuickRun()
    {
        var clock = Stopwatch.StartNew();
        All = Cli.Run("all", "--quick", "--out", Root, "--data", Path.Combine(Root, "no-idx-files"));
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
