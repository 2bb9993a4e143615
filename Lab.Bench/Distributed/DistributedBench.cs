using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lab.Bench.Throughput;
using Lab.Core;
using Lab.Core.Distributed;
using Lab.Core.IO;

namespace Lab.Bench.Distributed;

/// <summary>
/// `distributed`: data-parallel throughput of a seed workload on 1, 2, ... ranks of this machine (each rank started by
/// Open MPI's mpirun, the global batch shared among them, gradients averaged by DataParallel), and the all-reduce
/// bandwidth the ranks achieve over message sizes. The command starts `mpirun -np N` on itself once per rank count;
/// each job's rank 0 prints its results as JSON lines. Written to results/bench/distributed.{json,md} unless --no-save.
/// </summary>
public static class DistributedBench
{
    private static readonly Option<string> RanksOption = new("--ranks") { Description = "rank counts to measure", DefaultValueFactory = _ => "1,2", HelpName = "1,2,..." };
    private static readonly Option<string> WorkloadOption = new("--workload") { Description = "the seed workload trained data-parallel", DefaultValueFactory = _ => "digits_cnn_b10" };
    private static readonly Option<int?> BatchOption = new("--batch") { Description = "the global batch, shared by the ranks [default: the seed's]" };
    private static readonly Option<double> SecondsOption = new("--seconds") { Description = "measured seconds per rank count", DefaultValueFactory = _ => 3 };
    private static readonly Option<bool> NoSaveOption = new("--no-save") { Description = "write nothing under results/bench/" };
    private static readonly Option<bool> WorkerOption = new("--rank-worker") { Description = "(internal) run as one rank of the job mpirun started", Hidden = true };

    public const string Folder = "results/bench";
    public static readonly string[] Files = ["distributed.json", "distributed.md"];

    public static Command Command()
    {
        var command = new Command("distributed", "data-parallel throughput on 1, 2, ... ranks (mpirun) and all-reduce bandwidth")
            { RanksOption, WorkloadOption, BatchOption, SecondsOption, NoSaveOption, WorkerOption };
        command.SetAction(parse =>
        {
            Workload workload;
            try { workload = Workload.Find(parse.GetValue(WorkloadOption)!); }
            catch (ArgumentException e) { throw new UsageException($"distributed: --workload: {e.Message}"); }
            int batch = parse.GetValue(BatchOption) ?? workload.DefaultBatch;
            double seconds = parse.GetValue(SecondsOption);
            if (batch is < 1 or > 4096) throw new UsageException($"distributed: --batch expects 1 .. 4096, got {batch}.");
            if (seconds is < 0.1 or > 3600) throw new UsageException($"distributed: --seconds expects 0.1 .. 3600, got {seconds}.");
            if (parse.GetValue(WorkerOption)) return Rank(workload, batch, seconds);
            var ranks = ParseRanks(parse.GetValue(RanksOption)!, batch);
            return Drive(workload, batch, seconds, ranks, save: !parse.GetValue(NoSaveOption), parse.Tokens.Select(t => t.Value));
        });
        return command;
    }

    private static int[] ParseRanks(string text, int batch)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ranks = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 64 ? n : -1).ToArray();
        if (ranks.Length == 0 || ranks.Contains(-1)) throw new UsageException($"distributed: --ranks expects rank counts 1 .. 64 separated by commas, got '{text}'.");
        if (ranks.Max() > batch) throw new UsageException($"distributed: a global batch of {batch} cannot be shared by {ranks.Max()} ranks (--batch).");
        return ranks;
    }

    // ---- one rank of a job ----

    private static int Rank(Workload workload, int globalBatch, double seconds)
    {
        using var comm = Communicator.FromEnvironment(Device.Cpu);
        int n = comm.Size, r = comm.Rank;
        int local = globalBatch * (r + 1) / n - globalBatch * r / n;   // as DataLoader's shard
        var run = workload.Create(Device.Cpu, local);
        var parallel = new DataParallel(comm);
        foreach (var model in run.Models) parallel.BroadcastState(model);
        foreach (var optimizer in run.Optimizers) parallel.Attach(optimizer);
        parallel.LocalShare = (float)local / globalBatch;
        long gradientFloats = run.Optimizers.SelectMany(o => o.Parameters).Sum(p => (long)p.Numel);

        // Every rank must step alike (each step all-reduces), so rank 0's estimate of the step count is broadcast.
        for (int i = 0; i < 5; i++) run.Step();
        run.Sync();
        var probe = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++) run.Step();
        run.Sync();
        var steps = new float[] { (float)Math.Clamp(seconds / (probe.Elapsed.TotalSeconds / 5), 5, 1e7) };
        comm.Broadcast(steps);
        comm.Barrier();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < (int)steps[0]; i++) run.Step();
        run.Sync();
        comm.Barrier();
        double elapsed = clock.Elapsed.TotalSeconds;
        Report(comm, new
        {
            kind = "throughput", ranks = n, workload = workload.Name, global_batch = globalBatch, steps = (int)steps[0], seconds = elapsed,
            steps_per_s = steps[0] / elapsed, images_per_s = steps[0] * workload.ImagesPerStep(globalBatch) / elapsed,
            ms_per_step = 1000 * elapsed / steps[0], gradient_bytes = gradientFloats * 4,
        });

        // All-reduce in place over message sizes (MPI_Allreduce, sum): algorithm bandwidth = bytes / time, and the
        // bus bandwidth nccl-tests reports, algbw x 2(N-1)/N: what each link carries in a ring. One rank exchanges nothing.
        foreach (int floats in n == 1 ? [] : new[] { 256, 4096, 65536, 1 << 20, 1 << 23 })
        {
            var buffer = new float[floats];
            int iterations = (int)Math.Clamp((64L << 20) / (floats * 4L), 5, 2000);
            for (int i = 0; i < 3; i++) comm.AllReduce(buffer);
            comm.Barrier();
            var t = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) comm.AllReduce(buffer);
            double each = t.Elapsed.TotalSeconds / iterations;
            double algbw = floats * 4.0 / each / 1e9;
            Report(comm, new { kind = "allreduce", ranks = n, bytes = floats * 4L, iterations, microseconds = each * 1e6, algbw_gbs = algbw, busbw_gbs = algbw * 2 * (n - 1) / n });
        }
        return 0;
    }

    private static void Report(Communicator comm, object result)
    {
        if (comm.IsRoot) Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
    }

    // ---- the driver: one mpirun job per rank count ----

    private static int Drive(Workload workload, int batch, double seconds, int[] ranks, bool save, IEnumerable<string> args)
    {
        var mpirun = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists)
            ?? throw new UsageException("distributed: mpirun not found: install Open MPI (apt-get install openmpi-bin).");
        if (save) BenchFolder.Refuse(Folder, Files);
        var results = new List<JsonElement>();
        foreach (int n in ranks)
        {
            Console.Error.WriteLine($"distributed: {workload.Name}, global batch {batch}, on {n} rank(s) ...");
            var info = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-np", n.ToString(CultureInfo.InvariantCulture), "--oversubscribe" }) info.ArgumentList.Add(a);
            if (Environment.UserName == "root") info.ArgumentList.Add("--allow-run-as-root");
            info.ArgumentList.Add(Environment.ProcessPath!);
            if (!Environment.ProcessPath!.EndsWith("Lab.Bench", StringComparison.Ordinal)) info.ArgumentList.Add(typeof(DistributedBench).Assembly.Location);
            foreach (var a in new[] { "distributed", "--rank-worker", "--workload", workload.Name, "--batch", batch.ToString(CultureInfo.InvariantCulture),
                                      "--seconds", seconds.ToString(CultureInfo.InvariantCulture) }) info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            var error = p.StandardError.ReadToEndAsync();
            var lines = p.StandardOutput.ReadToEnd().Split('\n');
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{n} rank(s) failed (exit {p.ExitCode}): {error.Result.Trim()}");
            // A line may start with a terminal's escape codes (the runtime writes some when mpirun hands it a pty).
            results.AddRange(lines.Where(l => l.Contains("RESULT {", StringComparison.Ordinal))
                .Select(l => JsonDocument.Parse(l[(l.IndexOf("RESULT {", StringComparison.Ordinal) + 7)..]).RootElement));
        }
        var md = Markdown(results, workload, batch);
        Console.WriteLine(md);
        if (save)
        {
            Directory.CreateDirectory(Folder);
            var json = JsonSerializer.Serialize(new { machine = MachineInfo.Current(), command = string.Join(" ", args), results },
                new JsonSerializerOptions { WriteIndented = true });
            AtomicFile.WriteAllText(Path.Combine(Folder, Files[0]), json);
            AtomicFile.WriteAllText(Path.Combine(Folder, Files[1]), md);
            BenchFolder.Mark(Folder, "distributed", Files);
            Console.Error.WriteLine($"distributed: written to {Folder}/{Files[0]} and {Files[1]}");
        }
        return 0;
    }

    private static string Markdown(List<JsonElement> results, Workload workload, int batch)
    {
        var s = new StringBuilder();
        var machine = MachineInfo.Current();
        s.AppendLine($"# Data-parallel training on this machine ({machine.LogicalCores} logical cores, load {MachineInfo.LoadAverageNow()})");
        s.AppendLine();
        s.AppendLine($"`{workload.Name}`, global batch {batch} shared by the ranks (Open MPI, one process per rank, gradients averaged in buckets before each optimizer step).");
        s.AppendLine();
        s.AppendLine("| ranks | images/s | ms/step | speed-up | gradient bytes/step |");
        s.AppendLine("|---:|---:|---:|---:|---:|");
        var throughput = results.Where(r => r.GetProperty("kind").GetString() == "throughput").ToList();
        double? one = throughput.FirstOrDefault(r => r.GetProperty("ranks").GetInt32() == 1) is { ValueKind: JsonValueKind.Object } o ? o.GetProperty("images_per_s").GetDouble() : null;
        foreach (var r in throughput)
        {
            double ips = r.GetProperty("images_per_s").GetDouble();
            s.AppendLine($"| {r.GetProperty("ranks").GetInt32()} | {ips:N0} | {r.GetProperty("ms_per_step").GetDouble():0.###} | {(one is double b ? $"{ips / b:0.00}x" : "-")} | {r.GetProperty("gradient_bytes").GetInt64():N0} |");
        }
        s.AppendLine();
        s.AppendLine("All-reduce (MPI_Allreduce, sum, in place): algorithm bandwidth = bytes / time; bus bandwidth = algbw x 2(N-1)/N.");
        s.AppendLine();
        s.AppendLine("| ranks | bytes | µs per all-reduce | algbw GB/s | busbw GB/s |");
        s.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var r in results.Where(r => r.GetProperty("kind").GetString() == "allreduce"))
            s.AppendLine($"| {r.GetProperty("ranks").GetInt32()} | {r.GetProperty("bytes").GetInt64():N0} | {r.GetProperty("microseconds").GetDouble():0.0} | {r.GetProperty("algbw_gbs").GetDouble():0.###} | {r.GetProperty("busbw_gbs").GetDouble():0.###} |");
        return s.ToString();
    }
}
