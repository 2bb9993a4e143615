using System.Globalization;

namespace Lab.Bench.Throughput;

/// <summary>The command line of <c>throughput</c>; <see cref="Parse"/> throws ArgumentException with a usage hint.</summary>
public sealed record ThroughputOptions
{
    public IReadOnlyList<string> Devices { get; init; } = ["cpu"];
    public IReadOnlyList<Workload> Workloads { get; init; } = Workload.All;
    public double Seconds { get; init; } = 5;
    public double WarmupSeconds { get; init; } = 1;
    public bool Json { get; init; }
    public bool ComparePyTorch { get; init; }
    public bool Profile { get; init; }
    /// <summary>Overrides every workload's batch size (the seeds' sizes otherwise).</summary>
    public int? Batch { get; init; }
    /// <summary>Where results/bench/ files go; null writes nothing (quick runs with --no-save).</summary>
    public bool Save { get; init; } = true;

    /// <summary>Bounds checked before any work: a batch past this would ask for gigabytes per step (mnist_cnn at 4096 is ~0.4 GB
    /// of activations), and a window past an hour per workload is a typo, not a measurement.</summary>
    public const int MaxBatch = 4096;
    public const double MinSeconds = 0.01, MaxSeconds = 3600;

    public const string Usage =
        "throughput [--device cpu|cuda|all] [--workloads a,b,...] [--seconds S] [--warmup S] [--batch N]\n" +
        "           [--json] [--compare-pytorch] [--profile] [--no-save]\n" +
        "  workloads: " + "toy_mlp_b10, digits_cnn_b10, vae_digits_b16, gan_digits_b16_d5, score_toy_b16, mnist_cnn_b32";

    public static ThroughputOptions Parse(IReadOnlyList<string> args)
    {
        var o = new ThroughputOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string Value()
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new ArgumentException($"throughput: {a} needs a value.\nusage: {Usage}");
                return args[++i];
            }
            double Positive(string v)
            {
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !(x >= MinSeconds) || x > MaxSeconds)
                    throw new ArgumentException($"throughput: {a} expects a positive number of seconds from {MinSeconds} to {MaxSeconds}, got '{v}'.");
                return x;
            }
            switch (a)
            {
                case "--device":
                    o = o with
                    {
                        Devices = Value().ToLowerInvariant() switch
                        {
                            "cpu" => ["cpu"],
                            "cuda" or "gpu" => ["cuda"],
                            "all" => ["cpu", "cuda"],
                            var d => throw new ArgumentException($"throughput: --device expects cpu, cuda or all, got '{d}'."),
                        },
                    };
                    break;
                case "--workloads":
                    var names = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (names.Length == 0) throw new ArgumentException("throughput: --workloads lists no workload.");
                    o = o with { Workloads = names.Select(Workload.Find).Distinct().ToArray() };
                    break;
                case "--seconds": o = o with { Seconds = Positive(Value()) }; break;
                case "--warmup": o = o with { WarmupSeconds = Positive(Value()) }; break;
                case "--batch":
                    string b = Value();
                    if (!int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out int batch) || batch < 1 || batch > MaxBatch)
                        throw new ArgumentException($"throughput: --batch expects a positive integer up to {MaxBatch}, got '{b}'.");
                    o = o with { Batch = batch };
                    break;
                case "--json": o = o with { Json = true }; break;
                case "--compare-pytorch": o = o with { ComparePyTorch = true }; break;
                case "--profile": o = o with { Profile = true }; break;
                case "--no-save": o = o with { Save = false }; break;
                default: throw new ArgumentException($"throughput: unknown option '{a}'.\nusage: {Usage}");
            }
        }
        return o;
    }

    public int BatchFor(Workload w) => Batch ?? w.DefaultBatch;
}
