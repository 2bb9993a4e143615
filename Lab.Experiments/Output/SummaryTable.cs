using System.Globalization;
using Lab.Core.Nn;
using Spectre.Console;

namespace Lab.Experiments.Output;

/// <summary>A <see cref="ModelSummary"/> as the experiments print it: a Spectre.Console table with heavy borders, 100 columns wide, no colours.</summary>
public static class SummaryTable
{
    public static string Render(ModelSummary summary)
    {
        var table = new Table().Border(TableBorder.Heavy)
            .AddColumn("Layer (type)").AddColumn("Output Shape").AddColumn(new TableColumn("Param #").RightAligned());
        if (summary.HasConnections) table.AddColumn("Connected to");
        foreach (var row in summary.Rows)
        {
            var cells = new List<string> { ModelSummary.LayerCell(row), row.OutputShape, row.Params.ToString("N0", CultureInfo.InvariantCulture) };
            if (summary.HasConnections) cells.Add(row.ConnectedTo);
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 100;
        console.WriteLine($"Model: \"{summary.Model}\"");
        console.Write(table);
        foreach (var line in summary.Totals()) console.WriteLine(line);
        return writer.ToString();
    }
}
