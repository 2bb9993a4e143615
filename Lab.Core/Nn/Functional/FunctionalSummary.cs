using System.Globalization;
using System.Text;

namespace Lab.Core.Nn;

/// <summary>One row of a functional model's summary: a layer (or input) with its shapes, parameters and inbound tensors.</summary>
public sealed record FunctionalSummaryRow(string Name, string Type, string OutputShape, long Parameters, IReadOnlyList<string> ConnectedTo);

/// <summary>
/// Keras's summary of a functional model: one row per layer in the order the model runs them, inputs first, with the
/// output shape ("multiple" when a shared layer's calls differ), its parameter count (a shared layer's once) and the
/// "Connected to" column naming each inbound tensor as layer[call][output], e.g. "dense[0][0]".
/// </summary>
public static class FunctionalSummary
{
    public static IReadOnlyList<FunctionalSummaryRow> Rows(Model model)
    {
        var rows = new List<FunctionalSummaryRow>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var node in model.Nodes)
        {
            if (node.IsInput)
            {
                rows.Add(new(node.LayerName, "InputLayer", "[" + SymbolicShape.Format(node.Outputs[0].Shape) + "]", 0, []));
                continue;
            }
            var layer = node.Layer!;
            if (!seen.Add(layer)) continue;
            var calls = model.Nodes.Where(n => ReferenceEquals(n.Layer, layer)).ToList();
            var shapes = calls.Select(n => string.Join(", ", n.Outputs.Select(o => SymbolicShape.Format(o.Shape)))).Distinct().ToList();
            rows.Add(new(node.LayerName, layer.GetType().Name, shapes.Count == 1 ? shapes[0] : "multiple", layer.ParameterCount(),
                [.. calls.SelectMany(n => n.Inputs.Select(t => t.Reference))]));
        }
        return rows;
    }

    /// <summary>The summary as a value the programs render (<see cref="ModelSummary"/>), "Connected to" filled.</summary>
    public static ModelSummary Table(Model model)
    {
        var rows = Rows(model).Select(r => new SummaryRow(r.Name, r.Type, r.OutputShape, r.Parameters, string.Join(", ", r.ConnectedTo))).ToList();
        long parameters = model.ParameterCount();
        long trainable = model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
        long buffers = model.NamedBuffers().Sum(b => (long)b.Tensor.Numel);
        return new ModelSummary(model.Name ?? nameof(Model), rows, trainable, parameters - trainable + buffers);
    }

    /// <summary>The summary as text, as Keras prints it.</summary>
    public static string Render(Model model)
    {
        var rows = Rows(model);
        string[] header = ["Layer (type)", "Output Shape", "Param #", "Connected to"];
        var cells = rows.Select(r => new[]
        {
            $"{r.Name} ({r.Type})", r.OutputShape, r.Parameters.ToString("N0", CultureInfo.InvariantCulture),
            "[" + string.Join(", ", r.ConnectedTo.Select(c => $"'{c}'")) + "]",
        }).ToList();
        var widths = new int[header.Length];
        for (int c = 0; c < widths.Length; c++)
            widths[c] = Math.Max(header[c].Length, cells.Count == 0 ? 0 : cells.Max(r => r[c].Length)) + 3;
        int total = widths.Sum();

        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(model.Name).Append("\"\n");
        sb.Append('_', total).Append('\n');
        Line(sb, header, widths);
        sb.Append('=', total).Append('\n');
        for (int i = 0; i < cells.Count; i++)
        {
            Line(sb, cells[i], widths);
            sb.Append(i == cells.Count - 1 ? '=' : '_', total).Append('\n');
        }
        long parameters = model.ParameterCount();
        long trainable = model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
        long buffers = model.NamedBuffers().Sum(b => (long)b.Tensor.Numel);
        sb.Append("Total params: ").Append(Count(parameters + buffers)).Append('\n');
        sb.Append("Trainable params: ").Append(Count(trainable)).Append('\n');
        sb.Append("Non-trainable params: ").Append(Count(parameters - trainable + buffers)).Append('\n');
        sb.Append('_', total).Append('\n');
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string[] cells, int[] widths)
    {
        sb.Append(' ');
        for (int c = 0; c < cells.Length; c++)
        {
            if (c < cells.Length - 1) sb.Append(cells[c].PadRight(widths[c]));
            else sb.Append(cells[c]);
        }
        sb.Append('\n');
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
