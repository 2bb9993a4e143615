namespace Lab.Core.Imaging;

/// <summary>
/// Whether figures can be turned into pixels. PNG and GIF output of figures goes through the system's Cairo
/// (libcairo.so.2); without it figures are still written as SVG and the missing library is said once on
/// <see cref="Messages"/>, never thrown. Pure-pixel images (sample grids) need no Cairo at all.
/// </summary>
public static class Cairo
{
    private static readonly AsyncLocal<Simulation?> Simulated = new();
    private static int _reported;

    /// <summary>True when libcairo was loaded with every function the renderer needs.</summary>
    public static bool IsAvailable => Simulated.Value is null && CairoNative.LoadError is null;

    /// <summary>Why Cairo cannot be used, or null.</summary>
    public static string? Problem => Simulated.Value is not null ? "Cairo is treated as missing (simulated for a test)"
        : CairoNative.LoadError is { } error ? "Cairo (libcairo.so.2) is not available: " + error : null;

    /// <summary>Where the one-time "no Cairo, SVG only" notice goes; standard error by default.</summary>
    public static TextWriter Messages { get; set; } = Console.Error;

    /// <summary>True when Cairo can render; otherwise reports the problem once and returns it.</summary>
    internal static bool Check(out string? problem)
    {
        problem = Problem;
        if (problem is null)
        {
            return true;
        }
        Report(problem + "; figures are written as SVG only (no PNG or GIF). Install libcairo2 for pixel output.");
        return false;
    }

    /// <summary>Renders a drawing of <paramref name="width"/> x <paramref name="height"/> to RGBA pixels, or
    /// returns null with the reason (reported once) when Cairo is missing or fails.</summary>
    internal static Raster? TryRender(int width, int height, Action<ICanvas> draw, out string? problem)
    {
        if (!Check(out problem))
        {
            return null;
        }
        using var canvas = new CairoCanvas(width, height);
        draw(canvas);
        if (canvas.Status != 0)
        {
            problem = $"Cairo failed while drawing (status {canvas.Status})";
            Report(problem);
            return null;
        }
        return canvas.ToRaster();
    }

    /// <summary>Makes this async flow (a test) see Cairo as missing until disposed; notices go to
    /// <paramref name="messages"/> and are said once per simulation. Other threads are not affected.</summary>
    internal static IDisposable SimulateMissing(TextWriter? messages = null)
    {
        var simulation = new Simulation(messages ?? TextWriter.Null, Simulated.Value);
        Simulated.Value = simulation;
        return simulation;
    }

    private static void Report(string message)
    {
        if (Simulated.Value is { } simulation)
        {
            if (!simulation.Reported)
            {
                simulation.Reported = true;
                simulation.Messages.WriteLine("Imaging: " + message);
            }
            return;
        }
        if (Interlocked.Exchange(ref _reported, 1) == 0)
        {
            Messages.WriteLine("Imaging: " + message);
        }
    }

    private sealed class Simulation(TextWriter messages, Simulation? previous) : IDisposable
    {
        public TextWriter Messages { get; } = messages;
        public bool Reported { get; set; }

        public void Dispose() => Simulated.Value = previous;
    }
}
