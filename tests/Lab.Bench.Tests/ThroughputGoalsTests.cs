namespace Lab.Bench.Tests;

/// <summary>Issue 16's goals against a run: verdicts, distances, the images/s goal, and goals a run cannot measure.</summary>
public class ThroughputGoalsTests
{
    private static ThroughputResult Ok(string workload, string impl, double stepsPerS, int images = 32, string device = "cpu") => new()
    {
        Workload = workload, Device = device, Impl = impl, StepsPerS = stepsPerS, ImagesPerS = stepsPerS * images, MsPerStep = 1000 / stepsPerS,
    };

    [Fact]
    public void Each_goal_says_met_or_missed_and_how_far_using_the_faster_form_and_the_best_peer()
    {
        var results = new[]
        {
            Ok("gan_digits_b16_d5", "genlab", 1500, 80), Ok("gan_digits_b16_d5", "genlab-traced", 1600, 80),
            Ok("gan_digits_b16_d5", "pytorch", 200, 80), Ok("gan_digits_b16_d5", "torchsharp", 120, 80),
            Ok("toy_mlp_b10", "genlab", 50000, 10), Ok("toy_mlp_b10", "pytorch", 4000, 10), Ok("toy_mlp_b10", "torchsharp", 5000, 10),
            Ok("mnist_cnn_b32", "genlab", 300), Ok("mnist_cnn_b32", "genlab-traced", 250), Ok("mnist_cnn_b32", "pytorch", 150),
        };
        var goals = ThroughputGoals.Check(results);

        var gan = goals[0];
        Assert.Equal("gan_digits_b16_d5 ≥ 10x the best peer (CPU)", gan.Goal);
        Assert.Equal("8.00x (traced 1,600 vs PyTorch 200 steps/s)", gan.Measured);
        Assert.Equal("missed", gan.Verdict);
        Assert.Equal("80 % of the goal: 1.25x faster needed", gan.Distance);

        Assert.Equal(("met", "1.00x the goal"), (goals[1].Verdict, goals[1].Distance));
        Assert.Equal("10.00x (eager 50,000 vs TorchSharp 5,000 steps/s)", goals[1].Measured);

        Assert.Equal("2.00x (eager 300 vs PyTorch 150 steps/s)", goals[2].Measured);
        Assert.Equal("mnist_cnn_b32 ≥ 12,000 images/s (this 2-core CPU)", goals[3].Goal);
        Assert.Equal(("9,600 images/s (eager)", "missed", "80 % of the goal: 1.25x faster needed"), (goals[3].Measured, goals[3].Verdict, goals[3].Distance));

        Assert.Equal("mnist_cnn_b32 traced ≥ 100,000 images/s (H100-class GPU)", goals[^1].Goal);
        Assert.Equal("not measured", goals[^1].Verdict);
        Assert.Equal(5, goals.Count);
    }

    [Fact]
    public void The_gpu_goal_is_judged_when_a_traced_cuda_run_is_there_and_a_missing_peer_is_not_a_pass()
    {
        var goals = ThroughputGoals.Check(
        [
            Ok("mnist_cnn_b32", "genlab", 400), Ok("mnist_cnn_b32", "pytorch", 100),
            Ok("mnist_cnn_b32", "genlab-traced", 3500, device: "cuda"),
            Ok("attention_dates_b32", "genlab", 40), ThroughputResult.Failed("attention_dates_b32", "cpu", "pytorch", "no torch"),
        ]);
        Assert.Equal(("met", "1.60x the goal"), (goals[0].Verdict, goals[0].Distance));
        Assert.Equal(("met", "1.07x the goal"), (goals[1].Verdict, goals[1].Distance));
        Assert.Equal(("attention_dates_b32 ≥ 1x the best peer (CPU)", "no peer ran", "not measured"), (goals[2].Goal, goals[2].Measured, goals[2].Verdict));
        Assert.Equal(("112,000 images/s (traced, cuda)", "met", "1.12x the goal"), (goals[3].Measured, goals[3].Verdict, goals[3].Distance));
        Assert.Contains("| mnist_cnn_b32 traced ≥ 100,000 images/s (H100-class GPU) | 112,000 images/s (traced, cuda) | met | 1.12x the goal |",
            ThroughputGoals.ToMarkdown(goals));
    }
}
