using Lab.Core;
using Lab.Core.Distributed;

namespace Lab.Experiments;

/// <summary>
/// --distributed: the ranks mpirun or srun started train one model data-parallel. Every rank runs the experiment;
/// rank 0 alone opens the output folder, writes results, logs and checkpoints, and prints progress. The other ranks'
/// console is silent, their writes through the context are dropped, and what a run writes by path (a checkpoint)
/// lands in a private scratch folder removed at the end: they leave nothing behind.
/// </summary>
public sealed partial class ExperimentContext
{
    private string? _scratch;
    private IDisposable? _scratchOnSignal;
    private bool _scratchOpen;

    /// <summary>The job's ranks (the single process without --distributed).</summary>
    public Communicator Communicator { get; private set; } = Communicator.SingleProcess;

    /// <summary>What a data-parallel experiment hands its trainers (null without --distributed).</summary>
    public DataParallel? DataParallel { get; private set; }

    /// <summary>Whether this process writes the results: rank 0, or the only process.</summary>
    public bool IsRoot => Communicator.IsRoot;

    /// <summary>
    /// A generator whose draws differ from rank to rank (a GAN's noise: each rank's fakes are its own part of the
    /// global batch). Rank 0's is <see cref="Rng"/>'s, so one rank draws what a run without --distributed draws.
    /// Data order and initialisation must stay <see cref="Rng"/>'s: the same on every rank.
    /// </summary>
    public Generator RankRng(ulong stream) => Communicator.Rank == 0 ? Rng(stream) : new(Seed * 1_000_003UL + stream + 0x9E3779B97F4A7C15UL * (ulong)Communicator.Rank);

    private void JoinRanks()
    {
        // One GPU per rank: the rank's index on its machine picks the device.
        if (Device.Type == DeviceType.Cuda) Device = Device.Cuda(Communicator.LocalRank);
        Communicator = Communicator.FromEnvironment(Device);
        DataParallel = new DataParallel(Communicator);
    }

    /// <summary>What the run log and the console say about the ranks (rank 0 says it).</summary>
    public string RanksNote => Communicator.LaunchedByMpi
        ? $"--distributed: {Communicator.Size} rank(s) over {Communicator.Name}, the global batch shared among them"
        : "--distributed: not started by mpirun or srun, so one rank (launch with mpirun -np N ... or srun)";

    private void OpenScratch() => _scratchOpen = true;

    /// <summary>A non-root rank's folder for what a run writes by path: made on first use (most runs never ask), removed
    /// at the end, or by the signal handler when mpirun stops the job.</summary>
    private string? Scratch
    {
        get
        {
            if (!_scratchOpen) return null;
            if (_scratch is null)
            {
                var path = _scratch = Directory.CreateTempSubdirectory($"genlab-{Name}-rank{Communicator.Rank}-").FullName;
                _scratchOnSignal = Cli.Interruption.OnSignal(() => Delete(path));
            }
            return _scratch;
        }
    }

    private void DropScratch()
    {
        _scratchOpen = false;
        _scratchOnSignal?.Dispose();
        _scratchOnSignal = null;
        if (_scratch is not null) Delete(_scratch);
        _scratch = null;
    }

    private static void Delete(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
