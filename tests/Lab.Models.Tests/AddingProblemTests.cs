using Lab.Core;
using Lab.Models;
using Xunit;

namespace Lab.Models.Tests;

public class AddingProblemTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(50)]
    public void EachSequenceHasOneMarkerInEachHalfAndTheTargetIsTheirSum(int length)
    {
        var (x, y) = AddingProblem.Sample(new Generator(5), 300, length);
        Assert.Equal([300, length, 2], x.ShapeArray());
        Assert.Equal([300, 1], y.ShapeArray());
        var xs = x.ToArray();
        var ys = y.ToArray();
        int half = length / 2;
        var firstSeen = new HashSet<int>();
        for (int n = 0; n < 300; n++)
        {
            var marked = Enumerable.Range(0, length).Where(t => xs[(n * length + t) * 2 + 1] != 0).ToArray();
            Assert.Equal(2, marked.Length);
            Assert.All(marked, t => Assert.Equal(1f, xs[(n * length + t) * 2 + 1]));
            Assert.InRange(marked[0], 0, half - 1);
            Assert.InRange(marked[1], half, length - 1);
            firstSeen.Add(marked[0]);
            float sum = xs[(n * length + marked[0]) * 2] + xs[(n * length + marked[1]) * 2];
            Assert.Equal(sum, ys[n]);
            Assert.All(Enumerable.Range(0, length), t => Assert.InRange(xs[(n * length + t) * 2], 0f, 1f));
        }
        Assert.Equal(half, firstSeen.Count);   // every step of the first half gets marked somewhere in 300 draws
    }

    [Fact]
    public void PredictingTheMeanScoresOneSixth()
    {
        // Var(u1 + u2) for independent U[0, 1]: 2/12. Over 40,000 sequences the estimate's standard error is about 0.001.
        var (_, y) = AddingProblem.Sample(new Generator(11), 40_000, 20);
        var ys = y.ToArray();
        double mse = ys.Average(v => (v - 1.0) * (v - 1.0));
        Assert.Equal(1.0 / 6, mse, 0.005);
        Assert.Equal(1.0, ys.Average(), 0.01);
        Assert.Equal(1.0 / 6, AddingProblem.BaselineMse);
    }

    [Fact]
    public void TheDatasetHoldsTheSameDrawsAsTheTensors()
    {
        var (x, y) = AddingProblem.Sample(new Generator(3), 16, 9);
        var data = AddingProblem.Data(new Generator(3), 16, 9);
        Assert.Equal([9, 2], data.SampleShape);
        Assert.Equal([1], data.TargetShape);
        Assert.Equal(x.ToArray(), data.Features);
        Assert.Equal(y.ToArray(), data.Targets);
        Assert.NotEqual(x.ToArray(), AddingProblem.Sample(new Generator(4), 16, 9).X.ToArray());
    }

    [Fact]
    public void BadSizesNameTheArgument()
    {
        Assert.Contains("length must be at least 2", Assert.Throws<ArgumentException>(() => AddingProblem.Sample(new Generator(1), 4, 1)).Message);
        Assert.Contains("count must be positive", Assert.Throws<ArgumentException>(() => AddingProblem.Sample(new Generator(1), 0, 10)).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(32)]
    public void ParameterCountsMatchTheBuiltModels(int units)
    {
        foreach (var kind in AddingModels.Names)
        {
            var model = AddingModels.Create(kind, units, new Generator(1));
            Assert.Equal(model.ParameterCount(), AddingModels.ParameterCount(kind, units));
            var output = model.Call(AddingProblem.Sample(new Generator(2), 3, 6).X);
            Assert.Equal([3, 1], output.ShapeArray());
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void MatchedUnitsGiveCountsWithinTenPercentOfTheLstm(int lstmUnits)
    {
        long lstm = AddingModels.ParameterCount(AddingModels.Lstm, lstmUnits);
        Assert.Equal(lstmUnits, AddingModels.MatchedUnits(AddingModels.Lstm, lstmUnits));
        foreach (var kind in AddingModels.Names)
            Assert.InRange(AddingModels.ParameterCount(kind, AddingModels.MatchedUnits(kind, lstmUnits)), lstm * 0.9, lstm * 1.1);
        // SimpleRNN: H² + 4H + 1 = 4513 (the LSTM's at 32) lies between H = 65 (4486) and 66 (4621).
        Assert.Equal(65, AddingModels.MatchedUnits(AddingModels.SimpleRnn, 32));
    }
}
