using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharpPeer;

// The GenLab seed workloads in TorchSharp, timed the way Lab.Bench's `throughput` and bench/pytorch/seed_workloads.py
// time them; one JSON line per workload with the fields of GenLab's ThroughputResult (bench/torchsharp/README.md).
const string Usage = "usage: TorchSharpPeer [--device cpu|cuda] [--workloads a,b] [--seconds S] [--warmup S] [--threads T] [--batch N] [--mkldnn on|off] [--malloc tuned|default] [--list] [--losses N]";

Options o;
try { o = Options.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"TorchSharpPeer: {e.Message}\n{Usage}");
    return 2;
}
if (o.Help || o.List)
{
    Console.WriteLine(o.Help ? Usage : string.Join(",", Workloads.Names));
    return 0;
}

string malloc = o.TuneMalloc ? Native.TuneMalloc() : "glibc malloc defaults";
torch.set_num_threads(o.Threads);
string version = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?";
string baseConfig = $"TorchSharp {version} (libtorch {LibTorchVersion()}), {torch.get_num_threads()} threads, " +
                    $"OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "unset"}, " +
                    $"OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "unset"}";

foreach (var name in o.Workloads)
{
    int batch = o.Batch ?? Workloads.DefaultBatch(name);
    var line = new JsonObject { ["workload"] = name, ["device"] = o.Device, ["impl"] = "torchsharp", ["batch"] = batch, ["threads"] = torch.get_num_threads() };
    string? error = null;
    if (!Workloads.Names.Contains(name)) error = $"unknown workload {name}";
    else if (o.Device == "cuda" && !torch.cuda.is_available()) error = "CUDA not available: TorchSharp-cpu has no CUDA (the peer references the CPU package)";
    else
    {
        // oneDNN as asked, unless its convolutions are wrong for this workload's layers here: then ATen's.
        OneDnn.Enabled = o.OneDnn;
        string onednn = o.OneDnn ? "mkldnn=on" : "mkldnn=off";
        var cases = Workloads.Convolutions(name);
        if (o.Device == "cpu" && cases.Count > 0)
        {
            var wrong = OneDnn.Check(cases, batch);
            if (wrong.Count > 0 && o.OneDnn)
            {
                OneDnn.Enabled = false;
                var stillWrong = OneDnn.Check(cases, batch);
                if (stillWrong.Count > 0) error = "convolutions wrong with oneDNN on and off: " + string.Join("; ", stillWrong);
                onednn = $"mkldnn=off (asked on; oneDNN's convolutions were wrong here: {string.Join("; ", wrong)}; ATen's pass the float64 check)";
            }
            else if (wrong.Count > 0) error = "convolutions wrong (oneDNN off): " + string.Join("; ", wrong);
            else onednn += " (convolutions checked against float64)";
        }
        if (error is null && o.Losses > 0)
        {
            // The first steps' losses instead of a rate: the same seeds as seed_workloads.py, to compare the two peers' numbers.
            var check = Workloads.Create(name, batch, torch.device(o.Device));
            var losses = new JsonArray();
            for (int i = 0; i < o.Losses; i++)
            {
                check.Step();
                losses.Add(check.Sync());
            }
            line["losses"] = losses;
            line["config"] = $"{baseConfig}, {onednn}";
        }
        else if (error is null)
        {
            var device = torch.device(o.Device);
            long? faults = Native.MinorFaults();
            var run = Workloads.Create(name, batch, device);
            var (steps, seconds, rate) = Measure(run, o.Seconds, o.Warmup);
            faults = Native.MinorFaults() - faults;
            line["steps_per_s"] = Sig4(rate);
            line["images_per_s"] = Sig4(rate * run.ImagesPerStep);
            line["ms_per_step"] = Sig4(1000 / rate);
            line["allocated_bytes_per_step"] = null;
            line["steps"] = steps;
            line["seconds"] = Math.Round(seconds, 3);
            line["page_faults_per_step"] = faults is long f ? Math.Round((double)f / steps, 1) : null;
            line["config"] = $"{baseConfig}, {onednn}, Adam (TorchSharp's), zero_grad(set_to_none: true), a DisposeScope per step, {malloc}";
        }
    }
    line["error"] = error;
    Console.WriteLine(line.ToJsonString());
}
return 0;

// Warm-up, then five timed parts; the median part's rate (as GenLab's StepTimer and seed_workloads.py).
static (long Steps, double Seconds, double Rate) Measure(Run run, double seconds, double warmup)
{
    const int chunks = 5;
    var clock = Stopwatch.StartNew();
    for (int warm = 0; warm < 3 || clock.Elapsed.TotalSeconds < warmup; warm++) run.Step();
    run.Sync();
    var rates = new List<double>();
    long steps = 0;
    double total = 0;
    for (int c = 0; c < chunks; c++)
    {
        int n = 0;
        var part = Stopwatch.StartNew();
        do { run.Step(); n++; } while (part.Elapsed.TotalSeconds < seconds / chunks);
        run.Sync();
        double elapsed = part.Elapsed.TotalSeconds;
        rates.Add(n / elapsed);
        steps += n;
        total += elapsed;
    }
    rates.Sort();
    return (steps, total, rates[rates.Count / 2]);
}

// "2.10.0.0" as TorchSharp reports it: the release's three parts.
static string LibTorchVersion() => string.Join(".", torch.__version__.ToString()!.Split('.').Take(3));

static double Sig4(double x) => double.Parse(x.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

/// <summary>The command line, as seed_workloads.py's: each value checked, a bad one named.</summary>
internal sealed record Options(string Device, string[] Workloads, double Seconds, double Warmup, int Threads, int? Batch, bool OneDnn, bool TuneMalloc, bool Help, bool List, int Losses = 0)
{
    public static Options Parse(string[] args)
    {
        var o = new Options("cpu", TorchSharpPeer.Workloads.Names, 5, 1, Environment.ProcessorCount, null, true, true, false, false);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help") { o = o with { Help = true }; continue; }
            if (a == "--list") { o = o with { List = true }; continue; }
            string key = a, value;
            if (a.Contains('=')) (key, value) = (a[..a.IndexOf('=')], a[(a.IndexOf('=') + 1)..]);
            else if (i + 1 < args.Length) value = args[++i];
            else throw new ArgumentException($"{a} needs a value");
            o = key switch
            {
                "--device" => o with { Device = value is "cpu" or "cuda" ? value : throw Bad(key, value, "cpu or cuda") },
                "--workloads" => o with { Workloads = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--seconds" => o with { Seconds = Positive(key, value) },
                "--warmup" => o with { Warmup = Positive(key, value, allowZero: true) },
                "--threads" => o with { Threads = Count(key, value) },
                "--batch" => o with { Batch = Count(key, value) },
                "--losses" => o with { Losses = Count(key, value) },
                "--mkldnn" => o with { OneDnn = value switch { "on" => true, "off" => false, _ => throw Bad(key, value, "on or off") } },
                "--malloc" => o with { TuneMalloc = value switch { "tuned" => true, "default" => false, _ => throw Bad(key, value, "tuned or default") } },
                _ => throw new ArgumentException($"unknown option '{key}'"),
            };
        }
        if (o.Workloads.Length == 0) throw new ArgumentException("--workloads lists no workload");
        return o;
    }

    private static ArgumentException Bad(string key, string value, string expected) => new($"{key} expects {expected}, got '{value}'");

    private static double Positive(string key, string value, bool allowZero = false) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) && (x > 0 || (allowZero && x == 0))
            ? x : throw Bad(key, value, allowZero ? "a number of seconds ≥ 0" : "a positive number of seconds");

    private static int Count(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : throw Bad(key, value, "a positive integer");
}
