using Lab.Core.Imaging;

namespace Lab.Core.Tests.Imaging;

/// <summary>A fact that needs the system's Cairo: reported as skipped, with the reason, where libcairo is
/// missing, rather than passing silently.</summary>
public sealed class CairoFactAttribute : FactAttribute
{
    public CairoFactAttribute()
    {
        if (!Cairo.IsAvailable)
        {
            Skip = "needs libcairo.so.2: " + Cairo.Problem;
        }
    }
}
