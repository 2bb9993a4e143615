namespace Lab.Bench.Tests;

public class ThroughputResultTests
{
    private static ThroughputResult Sample() =>
        ThroughputResult.Measured("mnist_cnn_b32", "cpu", 32, 32, 2, new StepTiming(Steps: 100, Seconds: 2, MedianStepsPerSecond: 123.456789, AllocatedBytesPerStep: 1000.4));

    [Fact]
    public void A_measurement_derives_images_and_milliseconds_from_the_median_rate()
    {
        var r = Sample();
        Assert.Equal(123.5, r.StepsPerS);
        Assert.Equal(3951, r.ImagesPerS);
        Assert.Equal(8.1, r.MsPerStep);
        Assert.Equal(1000, r.AllocatedBytesPerStep);
        Assert.True(r.Ok);
    }

    [Fact]
    public void The_json_line_has_the_issue_fields_in_snake_case()
    {
        string line = Sample().ToJsonLine();
        Assert.DoesNotContain('\n', line);
        foreach (var field in new[] { "workload", "device", "steps_per_s", "images_per_s", "ms_per_step", "allocated_bytes_per_step" })
            Assert.Contains($"\"{field}\":", line);
        Assert.Equal(Sample(), ThroughputResult.TryParse(line));
    }

    [Fact]
    public void Reads_the_pytorch_scripts_lines()
    {
        const string line = """{"workload": "toy_mlp_b10", "device": "cpu", "impl": "pytorch", "batch": 10, "threads": 2, "steps_per_s": 3485.0, "images_per_s": 34850.0, "ms_per_step": 0.287, "allocated_bytes_per_step": null, "steps": 3488, "seconds": 1.001, "config": "torch 1.13", "error": null}""";
        var r = ThroughputResult.TryParse(line);
        Assert.NotNull(r);
        Assert.Equal("pytorch", r.Impl);
        Assert.Equal(3485.0, r.StepsPerS);
        Assert.Null(r.AllocatedBytesPerStep);
        Assert.Equal("torch 1.13", r.Config);
        Assert.True(r.Ok);
    }

    [Fact]
    public void An_error_line_is_not_ok_and_log_lines_are_skipped()
    {
        var r = ThroughputResult.TryParse("""{"workload": "toy_mlp_b10", "device": "cuda", "impl": "pytorch", "error": "CUDA not available: no GPU"}""");
        Assert.NotNull(r);
        Assert.False(r.Ok);
        Assert.Null(ThroughputResult.TryParse("Warning: something"));
        Assert.Null(ThroughputResult.TryParse("{not json"));
        Assert.Null(ThroughputResult.TryParse("""{"device": "cpu"}"""));
    }

    [Fact]
    public void Median_is_robust_to_one_spoiled_part()
    {
        Assert.Equal(10, StepTimer.Median([10, 11, 9, 1, 10.5]));
        Assert.Equal(2.5, StepTimer.Median([4, 1, 2, 3]));
        Assert.Throws<ArgumentException>(() => StepTimer.Median([]));
    }
}
