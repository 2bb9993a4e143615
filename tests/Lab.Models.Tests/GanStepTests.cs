using System.Text.Json;
using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

/// <summary>
/// GanTrainer.Step against the seed's GAN train_step computed in PyTorch float64 (Fixtures/gan_step.json, written by
/// bench/pytorch/gan_step.py; torch is not needed here): the same initial weights, real batches and latent codes give
/// the same losses at every step and the same parameters and batch-norm running statistics after three steps
/// (15 discriminator and 3 generator Adam updates), to float32 rounding.
/// </summary>
public class GanStepTests
{
    private static readonly Lazy<JsonElement> Fixture = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gan_step.json")));
        return doc.RootElement.Clone();
    });

    [Fact]
    public void StepsMatchTheSeedRecipeInPyTorch()
    {
        var (gan, trainer, latents) = FromFixture(fakesInTrainingMode: false);
        var steps = Fixture.Value.GetProperty("steps").EnumerateArray().ToArray();
        for (int s = 0; s < steps.Length; s++)
        {
            var (dLoss, gLoss) = trainer.Step(ToTensor(steps[s].GetProperty("real")));
            Assert.True(latents.Count == 6 * (steps.Length - s - 1), $"step {s + 1} used {6 * (steps.Length - s) - latents.Count} latent batches, expected 6 (5 for D, 1 for G)");
            AssertClose($"step {s + 1} d_loss", steps[s].GetProperty("d_loss").GetDouble(), dLoss.Item(), 2e-6);
            AssertClose($"step {s + 1} g_loss", steps[s].GetProperty("g_loss").GetDouble(), gLoss.Item(), 2e-6);
        }
        var expected = steps[^1].GetProperty("state");
        var actual = gan.StateDict().ToDictionary(p => p.Name, p => p.Tensor);
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), actual.Keys.Order());
        foreach (var p in expected.EnumerateObject())
        {
            var want = Values(p.Value);
            var got = actual[p.Name].ToArray();
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++) AssertClose($"{p.Name}[{i}] after {steps.Length} steps", want[i], got[i], 1e-5);
        }
    }

    [Fact]
    public void FakesFromTheGeneratorInTrainingModeAreNotTheSeedRecipe()
    {
        // The fixture tells the two modes apart: batch statistics for the discriminator's fakes move its first loss.
        var (_, trainer, _) = FromFixture(fakesInTrainingMode: true);
        var step = Fixture.Value.GetProperty("steps")[0];
        var (dLoss, _) = trainer.Step(ToTensor(step.GetProperty("real")));
        Assert.True(Math.Abs(dLoss.Item() - step.GetProperty("d_loss").GetDouble()) > 1e-3,
            $"d_loss {dLoss.Item()} with training-mode fakes is within 1e-3 of the inference-mode reference {step.GetProperty("d_loss").GetDouble()}");
    }

    private static (Gan, GanTrainer, Queue<Tensor>) FromFixture(bool fakesInTrainingMode)
    {
        var f = Fixture.Value;
        var gan = new Gan(generator: new Generator(99));
        var state = gan.StateDict().ToDictionary(p => p.Name, p => p.Tensor);
        var init = f.GetProperty("init");
        Assert.Equal(init.EnumerateObject().Select(p => p.Name).Order(), state.Keys.Order());
        using (new NoGrad())
            foreach (var p in init.EnumerateObject()) state[p.Name].CopyFrom(Values(p.Value).Select(v => (float)v).ToArray());
        var latents = new Queue<Tensor>(f.GetProperty("steps").EnumerateArray().SelectMany(s => s.GetProperty("latents").EnumerateArray()).Select(ToTensor));
        var trainer = new GanTrainer(gan, f.GetProperty("d_steps").GetInt32(), new Generator(0))
        {
            FakesInTrainingMode = fakesInTrainingMode,
            Latents = n =>
            {
                var z = latents.Dequeue();
                Assert.Equal([n, gan.Generator.Latent], z.ShapeArray());
                return z;
            },
        };
        return (gan, trainer, latents);
    }

    private static void AssertClose(string what, double expected, double actual, double tol)
    {
        if (!(Math.Abs(actual - expected) <= tol * (1 + Math.Abs(expected))))
            Assert.Fail($"{what}: GenLab {actual:R}, PyTorch {expected:R} (tolerance {tol} x (1 + |expected|))");
    }

    private static double[] Values(JsonElement e) => e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static Tensor ToTensor(JsonElement e) =>
        Tensor.FromArray(Values(e).Select(v => (float)v).ToArray(), e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
}
