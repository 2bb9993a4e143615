using Lab.Core;
using Lab.Core.Autodiff;
using Lab.Core.Data;
using Lab.Core.Data.Files;
using Lab.Core.Training;
using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

public class WganGpTests
{
    [Fact]
    public void CriticShapeAndParameterCount()
    {
        var critic = new WganCritic(64, new Generator(1));
        // 1*64*16 + 64, 64*128*16 + 128, 512 + 1
        Assert.Equal(132_801, critic.ParameterCount());
        Assert.Equal(33_633, new WganCritic().ParameterCount());   // the experiment's default width, 32
        Assert.Equal([5, 1], critic.Call(Tensor.Zeros(5, 1, 8, 8)).ShapeArray());
        var ex = Assert.Throws<ArgumentException>(() => critic.Call(Tensor.Zeros(2, 1, 28, 28)));
        Assert.Contains("8 x 8", ex.Message);
    }

    [Fact]
    public void PenaltyGradientAtTheConvWeightsMatchesFiniteDifferences()
    {
        // Every entry of both convolutions' weights of a small critic at initialisation.
        var critic = new WganCritic(width: 3, new Generator(5));
        var real = Tensor.Rand(new Generator(6), [4, 1, 8, 8]);
        var fake = Tensor.Rand(new Generator(7), [4, 1, 8, 8]);
        AssertPenaltyGradientMatchesFiniteDifferences(critic, real, fake, entriesPerConv: int.MaxValue);
    }

    [Fact]
    public void PenaltyNormsAreTheInputGradientNormsThatFiniteDifferencesOfTheScoreGive()
    {
        // With real = fake every interpolate is x itself, so the norms must be ‖∂D/∂x‖ of each sample.
        var critic = new WganCritic(width: 4, new Generator(11));
        var x = Tensor.Rand(new Generator(12), [2, 1, 8, 8]);
        var norms = critic.GradientPenalty(x, x, new Generator(14)).Norms.ToArray();
        var xi = x.Detach().RequireGrad();
        var grad = Autograd.Grad(critic.Call(xi).Sum(), xi)!.ToArray();
        var pixels = x.ToArray();
        using var _ = new NoGrad();
        for (int sample = 0; sample < 2; sample++)
        {
            double squared = 0;
            for (int i = sample * 64; i < (sample + 1) * 64; i++)
            {
                double Score(float value)
                {
                    var p = (float[])pixels.Clone();
                    p[i] = value;
                    return critic.Call(Tensor.FromArray(p, [2, 1, 8, 8])).ToArray()[sample];
                }
                float up = pixels[i] + 1e-3f, down = pixels[i] - 1e-3f;
                double numeric = (Score(up) - Score(down)) / ((double)up - down);
                Assert.True(Math.Abs(numeric - grad[i]) <= 1e-3 + 0.02 * Math.Abs(numeric), $"pixel {i}: backward {grad[i]}, finite differences {numeric}");
                squared += numeric * numeric;
            }
            Assert.Equal(Math.Sqrt(squared), norms[sample], 0.01 * Math.Sqrt(squared) + 1e-4);
        }
    }

    [Fact]
    public void PenaltyIsTakenAtInterpolatesWithOneUniformEpsilonPerSample()
    {
        var critic = new WganCritic(width: 4, new Generator(11));
        var real = Tensor.Rand(new Generator(12), [3, 1, 8, 8]);
        var fake = Tensor.Rand(new Generator(13), [3, 1, 8, 8]);
        var (penalty, norms) = critic.GradientPenalty(real, fake, new Generator(14));
        var eps = Tensor.Rand(new Generator(14), [3, 1, 1, 1]);   // the ε the penalty drew
        var xHat = real * eps + fake * (1f - eps);
        var atXHat = critic.GradientPenalty(xHat, xHat, new Generator(99)).Norms.ToArray();
        Assert.Equal(atXHat, norms.ToArray(), (a, b) => Math.Abs(a - b) <= 1e-5f);
        Assert.Equal(norms.ToArray().Average(n => (n - 1.0) * (n - 1.0)), penalty.Item(), 5);
        // Not the endpoints: the norms differ from those at the real and at the fake digits.
        Assert.NotEqual(critic.GradientPenalty(real, real, new Generator(1)).Norms.ToArray()[0], norms.ToArray()[0], 3);
        Assert.NotEqual(critic.GradientPenalty(fake, fake, new Generator(1)).Norms.ToArray()[0], norms.ToArray()[0], 3);
    }

    [Fact]
    public void ShortTrainingRaisesTheWassersteinEstimateAndThePenaltyHoldsGradientNormsNearOne()
    {
        // 100 critic updates of a narrow critic at 5x the recipe's learning rate: a few seconds, and the same story.
        var digits = DigitsFile.LoadDefault();
        var data = Dataset.WithLabels(digits.Images, [1, 8, 8], digits.Labels).Subset(Enumerable.Range(0, 160).ToArray());

        (WganGp Gan, History History) Train(float lambda)
        {
            var gan = new WganGp(criticWidth: 16, generator: new Generator(1));
            var trainer = new WganGpTrainer(gan, new Generator(4), lambda: lambda, lr: 5e-4f) { Output = TextWriter.Null };
            var history = trainer.Fit(data, epochs: 10, batchSize: 16, generator: new Generator(2), verbose: 0);
            Assert.Equal(100L, trainer.CriticUpdates);     // one per batch
            Assert.Equal(20L, trainer.GeneratorUpdates);   // one per 5 critic updates
            return (gan, history);
        }

        var (gan, penalised) = Train(lambda: 10);
        var (_, free) = Train(lambda: 0);

        // The critic learns to tell real from fake: its estimate of the distance grows from about 0.
        var w = penalised["w_estimate"];
        Assert.InRange(Math.Abs(w[0]), 0, 0.3);
        Assert.True(w[^1] > 0.5 && w[^1] > w[0] + 0.5, $"Wasserstein estimate per epoch: {string.Join(", ", w)}");
        // With the penalty the critic's gradient norm on interpolates settles near 1; without it, it runs away.
        Assert.InRange(penalised["grad_norm"][^1], 0.8, 1.3);
        Assert.True(free["grad_norm"][^1] > 2, $"without the penalty the gradient norm ended at {free["grad_norm"][^1]}");
        Assert.True(penalised["gradient_penalty"][^1] < 0.05, $"penalty per epoch: {string.Join(", ", penalised["gradient_penalty"])}");

        // After training, at real digits and generated ones, the penalty's gradient still reaches both convolutions.
        var real = data.FeaturesTensor().Rows(0, 8);
        Tensor fake;
        using (new NoGrad()) fake = gan.Generator.Generate(8, new Generator(9));
        AssertPenaltyGradientMatchesFiniteDifferences(gan.Critic, real, fake, entriesPerConv: 24);
    }

    [Fact]
    public void NonFiniteLossNamesTheRunTheEpochAndTheStep()
    {
        var images = Tensor.Rand(new Generator(3), [48, 1, 8, 8]).ToArray();
        images[20 * 64 + 5] = float.NaN;   // image 20: the second batch of 16, unshuffled
        var data = Dataset.WithLabels(images, [1, 8, 8], new int[48]);
        var trainer = new WganGpTrainer(new WganGp(criticWidth: 4, generator: new Generator(1)), new Generator(2), label: "wgan-gp") { Output = TextWriter.Null };
        var ex = Assert.Throws<NonFiniteException>(() => trainer.Fit(data, epochs: 2, batchSize: 16, shuffle: false, verbose: 0));
        Assert.Contains("wgan-gp", ex.Message);
        Assert.Contains("critic loss", ex.Message);
        Assert.Contains("epoch 1, step 2", ex.Message);
    }

    /// <summary>
    /// d(penalty)/dW for each convolution, from the recorded double backward, against central differences of
    /// the penalty (the same ε each time). Float32: a step of 2.5e-4 (small, to cross few kinks) and a tolerance of
    /// 3% of the value plus 1% of the largest entry.
    /// A kink in the way may leave only a one-sided difference usable, for at most a tenth of the entries.
    /// </summary>
    private static void AssertPenaltyGradientMatchesFiniteDifferences(WganCritic critic, Tensor real, Tensor fake, int entriesPerConv)
    {
        const ulong epsSeed = 21;
        double Penalty() => critic.GradientPenalty(real, fake, new Generator(epsSeed)).Penalty.Item();

        var weights = critic.Convolutions.Select(c => c.Weight).ToArray();
        Assert.Equal(2, weights.Length);
        var penalty = critic.GradientPenalty(real, fake, new Generator(epsSeed)).Penalty;
        var grads = Autograd.Grad([penalty], weights);
        var picker = new Random(3);
        for (int l = 0; l < weights.Length; l++)
        {
            var analytic = Assert.IsType<Tensor>(grads[l]).ToArray();
            double scale = analytic.Max(MathF.Abs);
            Assert.True(scale > 1e-4, $"conv {l}: the penalty's gradient is zero at the weights (largest {scale})");
            var entries = Enumerable.Range(0, analytic.Length).OrderBy(_ => picker.Next()).Take(entriesPerConv).ToArray();
            var w = weights[l].ToArray();
            int oneSided = 0;
            foreach (var i in entries)
            {
                const float h = 2.5e-4f;
                float original = w[i];
                double At(float value)
                {
                    w[i] = value;
                    using (new NoGrad()) weights[l].CopyFrom(w);
                    return Penalty();
                }
                float up = original + h, down = original - h;   // the steps float32 can take
                double plus = At(up), minus = At(down), centre = At(original);
                bool Close(double numeric) => Math.Abs(numeric - analytic[i]) <= 0.01 * scale + 0.03 * Math.Abs(numeric);
                if (Close((plus - minus) / ((double)up - down))) continue;
                // The penalty jumps where a LeakyReLU input crosses 0 (it depends on the slopes); with such a kink
                // between the two steps, the difference on the other side is still smooth.
                Assert.True(Close((plus - centre) / ((double)up - original)) || Close((centre - minus) / ((double)original - down)),
                    $"conv {l} weight {i}: double backward {analytic[i]}, finite differences {(plus - minus) / ((double)up - down)} " +
                    $"(one-sided {(plus - centre) / ((double)up - original)}, {(centre - minus) / ((double)original - down)})");
                oneSided++;
            }
            Assert.True(oneSided <= Math.Max(1, entries.Length / 10), $"conv {l}: {oneSided} of {entries.Length} entries needed a one-sided difference");
        }
    }
}
