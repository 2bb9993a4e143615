using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

public class ToyDataTests
{
    [Fact]
    public void ToyMixtureFollowsTheRecipe()
    {
        var toy = new ToyData();
        var train = toy.Sample(3000);
        Assert.Equal(3000, train.Count);
        for (int c = 0; c < 5; c++)
        {
            var pts = Enumerable.Range(c * 600, 600).ToArray();
            Assert.All(pts, i => Assert.Equal(c, (int)train.Target(i)[0]));
            double mx = pts.Average(i => train.Sample(i)[0]), my = pts.Average(i => train.Sample(i)[1]);
            Assert.Equal(toy.Means[2 * c], mx, 1);
            Assert.Equal(toy.Means[2 * c + 1], my, 1);
            double sx = Math.Sqrt(pts.Average(i => Math.Pow(train.Sample(i)[0] - mx, 2)));
            Assert.InRange(sx, 0.18, 0.22);
        }
        Assert.Equal(new ToyData().Means, toy.Means);
        Assert.NotEqual(train.Features.Take(10), toy.Sample(3000).Features.Take(10)); // the stream continues
    }

    [Fact]
    public void NoisySinAddsNoiseToAboutHalfThePoints()
    {
        var data = new NoisySin(seed: 1).Sample(2000);
        Assert.Equal(2000, data.Count);
        int noisy = 0;
        for (int i = 0; i < data.Count; i++)
        {
            float x = data.Sample(i)[0], y = data.Target(i)[0];
            Assert.InRange(x, -3f, 3f);
            if (Math.Abs(y - MathF.Sin(x)) > 1e-6f) noisy++;
        }
        Assert.InRange(noisy, 900, 1100);
    }

    [Fact]
    public void BadSizesAreClearErrors()
    {
        Assert.Contains("multiple of 5", Assert.Throws<ArgumentException>(() => new ToyData().Sample(7)).Message);
        Assert.Contains("at least one class", Assert.Throws<ArgumentException>(() => new ToyData(0)).Message);
    }
}
