namespace Lab.Bench.Tests;

/// <summary>`distributed`: its command line, and one short run on 1 and 2 ranks where Open MPI's mpirun is installed.</summary>
public class DistributedBenchTests
{
    [Theory]
    [InlineData("distributed: --ranks expects rank counts 1 .. 64 separated by commas, got '0'", "--ranks", "0")]
    [InlineData("distributed: a global batch of 2 cannot be shared by 3 ranks (--batch)", "--ranks", "1,3", "--batch", "2")]
    [InlineData("distributed: --workload: Unknown workload 'nope'", "--workload", "nope")]
    [InlineData("distributed: --seconds expects 0.1 .. 3600, got 0", "--seconds", "0")]
    public void BadCommandLinesSayWhatWasWrongAndExitWithTwo(string message, params string[] args)
    {
        using var folder = new CommandLineTests.Folder();
        var r = CommandLineTests.Bench(folder.Path, ["distributed", .. args]);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }

    public sealed class MpiFactAttribute : FactAttribute
    {
        public MpiFactAttribute()
        {
            if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "mpirun"))))
                Skip = "mpirun not found: install Open MPI (apt-get install openmpi-bin) to run the 2-rank benchmark";
        }
    }

    [MpiFact]
    public void OneAndTwoRanksReportThroughputAndTheTwoRankAllReduce()
    {
        using var folder = new CommandLineTests.Folder();
        var r = CommandLineTests.Bench(folder.Path, "distributed", "--ranks", "1,2", "--seconds", "0.2", "--no-save");
        Assert.True(r.Code == 0, r.Error);
        var rows = r.Output.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| ranks", StringComparison.Ordinal)).ToList();
        // Throughput: one row per rank count, the first the 1.00x baseline, the digits CNN's 1,250 parameters as 5,000 gradient bytes.
        var throughput = rows.Where(l => l.TrimEnd().EndsWith("| 5,000 |", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, throughput.Count);
        Assert.StartsWith("| 1 |", throughput[0]);
        Assert.Contains("| 1.00x |", throughput[0]);
        Assert.StartsWith("| 2 |", throughput[1]);
        Assert.All(throughput, l => Assert.True(double.Parse(l.Split('|')[2].Trim().Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture) > 0, l));
        // All-reduce: five message sizes, on 2 ranks only (one rank exchanges nothing).
        var allReduce = rows.Except(throughput).ToList();
        Assert.Equal(5, allReduce.Count);
        Assert.All(allReduce, l => Assert.StartsWith("| 2 | ", l));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));   // --no-save
    }
}
