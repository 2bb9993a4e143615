using System.Globalization;
using System.Text;
using Lab.Core.Autodiff;

namespace Lab.Core.Nn;

/// <summary>Collects (layer, output shape) pairs while a summary's dry run calls the model.</summary>
internal sealed class SummaryRecorder
{
    [ThreadStatic] internal static SummaryRecorder? Current;
    public readonly List<(Module Module, int[] Shape)> Calls = [];
    public void Record(Module m, Tensor y) => Calls.Add((m, y.ShapeArray()));
}

/// <summary>One layer of a <see cref="ModelSummary"/>.</summary>
/// <param name="Name">The layer's name in the model ("0", "encoder.conv1"; the model's type for the model itself).</param>
/// <param name="Type">What the layer is, as <see cref="Module.Describe"/> says it ("Linear(2 -> 10, relu)").</param>
/// <param name="OutputShape">Keras's "(None, 10)": the batch dimension as None.</param>
/// <param name="Params">The layer's own parameters.</param>
/// <param name="ConnectedTo">The layers whose outputs feed this one (functional models); empty for a sequential model.</param>
public sealed record SummaryRow(string Name, string Type, string OutputShape, long Params, string ConnectedTo = "");

/// <summary>
/// Keras's model.summary() as a value: one row per leaf layer in call order, and the totals in parameters (a
/// buffer such as a batch norm's running mean counts as non-trainable, as in Keras). The programs render it (GenLab's
/// with Spectre.Console); <see cref="ToString"/> is a plain-text table.
/// </summary>
public sealed class ModelSummary
{
    public ModelSummary(string model, IReadOnlyList<SummaryRow> rows, long trainable, long nonTrainable)
    {
        Model = model;
        Rows = rows;
        TrainableParams = trainable;
        NonTrainableParams = nonTrainable;
    }

    /// <summary>The model's type name.</summary>
    public string Model { get; }
    public IReadOnlyList<SummaryRow> Rows { get; }
    public long TrainableParams { get; }
    public long NonTrainableParams { get; }
    public long TotalParams => TrainableParams + NonTrainableParams;
    /// <summary>Whether any row names its inputs (a functional model): renderers show the "Connected to" column only then.</summary>
    public bool HasConnections => Rows.Any(r => r.ConnectedTo.Length > 0);

    /// <summary>Runs <paramref name="model"/> once on zeros of <paramref name="inputShape"/> (inference mode, no gradients) and records each leaf layer's output.</summary>
    public static ModelSummary Of(Module model, int[] inputShape)
    {
        var names = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, m) in model.NamedModules()) names.TryAdd(m, name.Length == 0 ? model.GetType().Name : name);

        var recorder = new SummaryRecorder();
        bool wasTraining = model.Training;
        model.Eval();
        SummaryRecorder.Current = recorder;
        try
        {
            using var _ = new NoGrad();
            model.Call(Tensor.Zeros(inputShape, model.Device));
        }
        finally
        {
            SummaryRecorder.Current = null;
            model.Train(wasTraining);
        }

        var rows = new List<SummaryRow>();
        foreach (var (m, shape) in recorder.Calls)
        {
            if (m.NamedChildren().Any()) continue; // containers are summed through their leaves
            long own = m.NamedParameters().Sum(p => (long)p.Tensor.Numel);
            rows.Add(new SummaryRow(names.GetValueOrDefault(m, "?"), m.Describe(), "(None, " + string.Join(", ", shape.Skip(1)) + ")", own));
        }
        long total = model.ParameterCount();
        long trainable = model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
        long buffers = model.NamedBuffers().Sum(b => (long)b.Tensor.Numel);
        return new ModelSummary(model.GetType().Name, rows, trainable, total - trainable + buffers);
    }

    /// <summary>The "Layer (type)" cell: "0 (Linear(2 -> 10, relu))".</summary>
    public static string LayerCell(SummaryRow row) => $"{row.Name} ({row.Type})";

    /// <summary>A parameter count with its size as float32: "163 (652.00 B)".</summary>
    public static string Count(long n) => $"{n.ToString("N0", CultureInfo.InvariantCulture)} ({Bytes(n * sizeof(float))})";

    /// <summary>The three total lines, as Keras prints them under the table.</summary>
    public IEnumerable<string> Totals() =>
    [
        $" Total params: {Count(TotalParams)}",
        $" Trainable params: {Count(TrainableParams)}",
        $" Non-trainable params: {Count(NonTrainableParams)}",
    ];

    /// <summary>A plain-text table (no colours, no box-drawing), for logs and programs without a console renderer.</summary>
    public override string ToString()
    {
        var header = HasConnections
            ? new[] { "Layer (type)", "Output Shape", "Param #", "Connected to" }
            : ["Layer (type)", "Output Shape", "Param #"];
        var cells = Rows.Select(r => HasConnections
            ? new[] { LayerCell(r), r.OutputShape, Params(r), r.ConnectedTo }
            : [LayerCell(r), r.OutputShape, Params(r)]).ToList();
        var widths = header.Select((h, c) => cells.Select(row => row[c].Length).Append(h.Length).Max()).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine($"Model: \"{Model}\"");
        string Line(string[] row) => string.Join("  ", row.Select((cell, c) => c == 2 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd();
        var rule = new string('-', widths.Sum() + 2 * (widths.Length - 1));
        sb.AppendLine(rule).AppendLine(Line(header)).AppendLine(rule);
        foreach (var row in cells) sb.AppendLine(Line(row));
        sb.AppendLine(rule);
        foreach (var line in Totals()) sb.AppendLine(line);
        return sb.ToString();
    }

    private static string Params(SummaryRow r) => r.Params.ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long b) => b switch
    {
        < 1024 => $"{b} B",
        < 1024 * 1024 => $"{b / 1024.0:0.00} KB",
        _ => $"{b / (1024.0 * 1024):0.00} MB",
    };
}
