using System.CommandLine;

namespace Lab.Experiments.Cli;

/// <summary>The options every experiment (and `all`) takes.</summary>
public static class CommonOptions
{
    /// <summary>The largest --epochs any run accepts.</summary>
    public const int MaxEpochs = 100_000;

    public static readonly Option<string?> Out = Define.OptionalText("--out", "DIR", "output folder [default: results/<experiment>]");
    public static readonly Option<int> Seed = Define.Int("--seed", "random seed", 0, min: 0);
    /// <summary>The most seeds one multi-seed run takes (--seeds, --repeat).</summary>
    public const int MaxSeeds = 1000;
    public static readonly Option<int[]?> Seeds = Define.OptionalIntList("--seeds", "N,N,...",
        "run once per seed, each into <out>/seed-N, and report each metric's mean, std, min and max in <out>/metrics.json (instead of --seed)",
        "seed", max: int.MaxValue, maxCount: MaxSeeds);
    public static readonly Option<int?> Repeat = Define.OptionalInt("--repeat", "like --seeds with the N seeds --seed, --seed + 1, ..., --seed + N - 1",
        min: 1, max: MaxSeeds);
    public static readonly Option<int?> Epochs = Define.OptionalInt("--epochs", "training epochs [default: the seed recipe's; 1 with --quick]", min: 1, max: MaxEpochs);
    public static readonly Option<string> Device = Define.Choice("--device", "where tensors live", ["cpu", "cuda"]);
    public static readonly Option<bool> Quick = Define.Flag("--quick", "tiny data and epochs: proves the pipeline in seconds (used by the tests)");
    public static readonly Option<bool> DetectAnomaly = Define.Flag("--detect-anomaly",
        "check every op's result for NaN or infinity and name the first op that made one (slow; also GENLAB_DETECT_ANOMALY=1)");
    public static readonly Option<string> Video = Define.Choice("--video",
        "how animations are written: GenLab's own GIF, or through ffmpeg a palette-optimised GIF or an H.264 MP4 (without ffmpeg: GenLab's own GIF, and a note)",
        ["own", "gif", "mp4"]);
    public static readonly Option<bool> Distributed = Define.Flag("--distributed",
        "data-parallel training over the ranks mpirun or srun started (MPI on the CPU, NCCL with --device cuda, one GPU per rank); --batch-size stays the global batch; rank 0 writes the results");
    public static readonly Option<bool> Verbose = Define.Flag("--verbose", "print a failure's stack trace (it is always in the run log)");

    public static readonly Option[] All = [Out, Seed, Seeds, Repeat, Epochs, Device, Quick, DetectAnomaly, Video, Distributed, Verbose];
}
