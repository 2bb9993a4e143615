using System.Globalization;
using Lab.Core.Autodiff;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Lab.Core.Nn;

/// <summary>Collects (layer, output shape) pairs while a summary's dry run calls the model.</summary>
internal sealed class SummaryRecorder
{
    [ThreadStatic] internal static SummaryRecorder? Current;
    public readonly List<(Module Module, int[] Shape)> Calls = [];
    public void Record(Module m, Tensor y) => Calls.Add((m, y.ShapeArray()));
}

/// <summary>Keras's model.summary(): one row per leaf layer in call order, totals in parameters and bytes.</summary>
public static class ModelSummary
{
    public static string Render(Module model, int[] inputShape)
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

        var table = new Table().Border(TableBorder.Heavy)
            .AddColumn("Layer (type)").AddColumn("Output Shape").AddColumn(new TableColumn("Param #").RightAligned());
        foreach (var (m, shape) in recorder.Calls)
        {
            if (m.NamedChildren().Any()) continue; // containers are summed through their leaves
            long own = m.NamedParameters().Sum(p => (long)p.Tensor.Numel);
            var outShape = "(None, " + string.Join(", ", shape.Skip(1)) + ")";
            table.AddRow(Markup.Escape($"{names.GetValueOrDefault(m, "?")} ({m.Describe()})"), Markup.Escape(outShape),
                own.ToString("N0", CultureInfo.InvariantCulture));
        }
        long total = model.ParameterCount();
        long trainable = model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
        long buffers = model.NamedBuffers().Sum(b => (long)b.Tensor.Numel);

        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 100;
        console.WriteLine($"Model: \"{model.GetType().Name}\"");
        console.Write(table);
        console.WriteLine($" Total params: {Count(total + buffers)}");
        console.WriteLine($" Trainable params: {Count(trainable)}");
        console.WriteLine($" Non-trainable params: {Count(total - trainable + buffers)}");
        return writer.ToString();
    }

    private static string Count(long n) =>
        $"{n.ToString("N0", CultureInfo.InvariantCulture)} ({Bytes(n * sizeof(float))})";

    private static string Bytes(long b) => b switch
    {
        < 1024 => $"{b} B",
        < 1024 * 1024 => $"{b / 1024.0:0.00} KB",
        _ => $"{b / (1024.0 * 1024):0.00} MB",
    };
}
