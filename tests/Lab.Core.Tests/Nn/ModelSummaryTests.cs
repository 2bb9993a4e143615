using Lab.Core.Autodiff;
using Lab.Core.Nn;

namespace Lab.Core.Tests.Nn;

/// <summary>The model summary as a value (rows and totals) and its plain-text table.</summary>
public class ModelSummaryTests
{
    [Fact]
    public void A_sequential_model_has_one_row_per_layer_in_call_order()
    {
        var g = new Generator(1);
        var model = new Sequential(new Linear(2, 10, Activation.Relu, generator: g), new Linear(10, 5, generator: g));
        var summary = model.Summary(4, 2);
        Assert.Equal("Sequential", summary.Model);
        Assert.Equal(
            [new SummaryRow("0", "Linear(2 -> 10, relu)", "(None, 10)", 30), new SummaryRow("1", "Linear(10 -> 5)", "(None, 5)", 55)],
            summary.Rows);
        Assert.Equal(85, summary.TrainableParams);
        Assert.Equal(0, summary.NonTrainableParams);
        Assert.Equal(85, summary.TotalParams);
        Assert.False(summary.HasConnections);   // sequential: no "Connected to" column
    }

    [Fact]
    public void Buffers_and_frozen_parameters_count_as_non_trainable()
    {
        var g = new Generator(1);
        var frozen = new Linear(3, 2, generator: g);
        foreach (var p in frozen.Parameters()) p.RequiresGrad = false;
        var model = new Sequential(new Conv2d(1, 3, 3, generator: g), new BatchNorm2d(3), new Flatten(), new Linear(3 * 4 * 4, 3, generator: g), frozen);
        var summary = model.Summary(2, 1, 6, 6);
        Assert.Equal(["(None, 3, 4, 4)", "(None, 3, 4, 4)", "(None, 48)", "(None, 3)", "(None, 2)"], summary.Rows.Select(r => r.OutputShape));
        long conv = 3 * 9 + 3, bn = 2 * 3, dense = 48 * 3 + 3, frozenCount = 3 * 2 + 2, runningStats = 2 * 3;
        Assert.Equal(conv + bn + dense, summary.TrainableParams);
        Assert.Equal(frozenCount + runningStats, summary.NonTrainableParams);
        Assert.Equal(bn, summary.Rows[1].Params);   // a row counts parameters; the running statistics show in the totals
    }

    [Fact]
    public void The_plain_text_table_lines_up_its_columns_and_ends_with_the_totals()
    {
        var g = new Generator(1);
        var text = new Sequential(new Linear(2, 10, Activation.Relu, generator: g), new Linear(10, 5, generator: g)).Summary(1, 2).ToString();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("Model: \"Sequential\"", lines[0]);
        Assert.StartsWith("Layer (type)", lines[2]);
        Assert.DoesNotContain("Connected to", text);
        int shapeColumn = lines[2].IndexOf("Output Shape", StringComparison.Ordinal);
        Assert.Equal(shapeColumn, lines[4].IndexOf("(None, 10)", StringComparison.Ordinal));
        Assert.Equal(shapeColumn, lines[5].IndexOf("(None, 5)", StringComparison.Ordinal));
        Assert.EndsWith("30", lines[4]);   // Param # is right-aligned
        Assert.Equal(lines[2].Length, lines[4].Length);
        Assert.Equal(" Total params: 85 (340 B)", lines[^3]);
        Assert.Equal(" Trainable params: 85 (340 B)", lines[^2]);
        Assert.Equal(" Non-trainable params: 0 (0 B)", lines[^1]);
    }

    [Fact]
    public void A_row_that_names_its_inputs_adds_the_connected_to_column()
    {
        var summary = new ModelSummary("Model", [new SummaryRow("input", "Input", "(None, 2)", 0), new SummaryRow("dense", "Linear(2 -> 1)", "(None, 1)", 3, "input")], 3, 0);
        Assert.True(summary.HasConnections);
        var header = summary.ToString().Split('\n')[2];
        Assert.EndsWith("Connected to", header.TrimEnd());
        Assert.EndsWith("input", summary.ToString().Split('\n')[5].TrimEnd());
    }
}
