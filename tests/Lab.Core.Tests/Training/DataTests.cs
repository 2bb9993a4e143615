using Lab.Core.Data;

namespace Lab.Core.Tests.Training;

public class DataTests
{
    private static Dataset Numbered(int n) => Dataset.WithLabels(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), [1], Enumerable.Range(0, n).ToArray());

    [Fact]
    public void EachSampleOncePerEpochInAFreshOrder()
    {
        var loader = new DataLoader(Numbered(23), 5, shuffle: true, generator: new Generator(1));
        Assert.Equal(5, loader.Count);
        var epochs = new List<float[]>();
        for (int e = 0; e < 2; e++)
        {
            var seen = new List<float>();
            foreach (var b in loader.Epoch())
            {
                Assert.Equal(b.X.ToArray(), b.Y.ToArray()); // features and labels stay paired
                seen.AddRange(b.X.ToArray());
            }
            Assert.Equal(Enumerable.Range(0, 23).Select(i => (float)i), seen.Order());
            epochs.Add(seen.ToArray());
        }
        Assert.NotEqual(epochs[0], epochs[1]);
        var again = new DataLoader(Numbered(23), 5, shuffle: true, generator: new Generator(1));
        Assert.Equal(epochs[0], again.Epoch().SelectMany(b => b.X.ToArray()).ToArray());
    }

    [Fact]
    public void DropLastAndBatchReuse()
    {
        var loader = new DataLoader(Numbered(23), 5, dropLast: true);
        var batches = loader.Epoch().ToList();
        Assert.Equal(4, batches.Count);
        Assert.Same(batches[0].X, batches[1].X); // refilled, not reallocated
        Assert.Equal(5, new DataLoader(Numbered(23), 5).Epoch().Count());
        Assert.Equal(3, new DataLoader(Numbered(23), 5).Epoch().Last().Size);
    }

    [Fact]
    public void SplitIsSeededAndDisjoint()
    {
        var (a, b) = Numbered(100).Split(0.2, new Generator(4));
        Assert.Equal(80, a.Count);
        Assert.Equal(20, b.Count);
        Assert.Empty(a.Features.Intersect(b.Features));
        var (a2, _) = Numbered(100).Split(0.2, new Generator(4));
        Assert.Equal(a.Features, a2.Features);
    }
}
