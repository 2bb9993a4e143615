namespace Lab.Figures.Tests;

/// <summary>Bar value labels stay short enough that four bars to a group do not run into each other.</summary>
public class BarLabelTests
{
    [Theory]
    [InlineData(0, "0")]
    [InlineData(50.94, "50.9")]
    [InlineData(40.25, "40.3")]
    [InlineData(-40.25, "\u221240.3")]
    [InlineData(1_162, "1162")]
    [InlineData(9_999, "9999")]
    [InlineData(10_000, "10k")]
    [InlineData(18_712, "18.7k")]
    [InlineData(112_141, "112k")]
    [InlineData(230_717, "231k")]
    [InlineData(999_400, "999k")]
    [InlineData(999_600, "1M")]
    [InlineData(1_121_407, "1.12M")]
    [InlineData(-25_000, "\u221225k")]
    public void Labels_have_three_significant_digits_and_a_suffix_from_ten_thousand(double value, string expected) =>
        Assert.Equal(expected, Plots.BarLabel(value));
}
