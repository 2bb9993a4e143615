using System.Runtime.InteropServices;

namespace Lab.Core.Imaging;

/// <summary>
/// The few Cairo entry points the renderer uses, bound at run time through <see cref="NativeLibrary.TryLoad(string, out nint)"/>
/// so that a machine without libcairo gets a clear "unavailable" instead of a DllNotFoundException at the
/// first draw. Function pointers avoid a delegate per call; Cairo's ABI is plain cdecl C.
/// </summary>
internal static unsafe class CairoNative
{
    public const int FormatArgb32 = 0;
    public const int FilterGood = 1, FilterNearest = 3, FilterBilinear = 4;
    public const int ExtendPad = 3;
    public const int LineJoinRound = 1, LineCapRound = 1, LineCapButt = 0;

    [StructLayout(LayoutKind.Sequential)]
    public struct TextExtents
    {
        public double XBearing, YBearing, Width, Height, XAdvance, YAdvance;
    }

    private static readonly string[] Names = ["libcairo.so.2", "libcairo.so", "libcairo.2.dylib", "libcairo-2.dll"];

    public static readonly delegate* unmanaged[Cdecl]<int, int, int, nint> ImageSurfaceCreate;
    public static readonly delegate* unmanaged[Cdecl]<byte*, int, int, int, int, nint> ImageSurfaceCreateForData;
    public static readonly delegate* unmanaged[Cdecl]<nint, byte*> ImageSurfaceGetData;
    public static readonly delegate* unmanaged[Cdecl]<nint, int> ImageSurfaceGetStride;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> SurfaceFlush;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> SurfaceDestroy;
    public static readonly delegate* unmanaged[Cdecl]<nint, int> SurfaceStatus;
    public static readonly delegate* unmanaged[Cdecl]<nint, nint> Create;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> Destroy;
    public static readonly delegate* unmanaged[Cdecl]<nint, int> Status;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> Save;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> Restore;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, double, double, void> SetSourceRgba;
    public static readonly delegate* unmanaged[Cdecl]<nint, nint, double, double, void> SetSourceSurface;
    public static readonly delegate* unmanaged[Cdecl]<nint, nint> GetSource;
    public static readonly delegate* unmanaged[Cdecl]<nint, int, void> PatternSetFilter;
    public static readonly delegate* unmanaged[Cdecl]<nint, int, void> PatternSetExtend;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, double, double, void> Rectangle;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, void> MoveTo;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, void> LineTo;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, double, double, double, void> Arc;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> ClosePath;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> NewPath;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> Fill;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> FillPreserve;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> Stroke;
    public static readonly delegate* unmanaged[Cdecl]<nint, void> Clip;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, void> SetLineWidth;
    public static readonly delegate* unmanaged[Cdecl]<nint, int, void> SetLineJoin;
    public static readonly delegate* unmanaged[Cdecl]<nint, int, void> SetLineCap;
    public static readonly delegate* unmanaged[Cdecl]<nint, double*, int, double, void> SetDash;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, void> Translate;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, void> Rotate;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, double, void> Scale;
    public static readonly delegate* unmanaged[Cdecl]<nint, byte*, int, int, void> SelectFontFace;
    public static readonly delegate* unmanaged[Cdecl]<nint, double, void> SetFontSize;
    public static readonly delegate* unmanaged[Cdecl]<nint, byte*, TextExtents*, void> TextExtentsOf;
    public static readonly delegate* unmanaged[Cdecl]<nint, byte*, void> ShowText;

    /// <summary>Why the library could not be used; null when every entry point was found.</summary>
    public static readonly string? LoadError;

    static CairoNative()
    {
        // GENLAB_NO_CAIRO=1 runs a whole process as on a machine without the library (SVG only).
        if (Environment.GetEnvironmentVariable("GENLAB_NO_CAIRO") == "1")
        {
            LoadError = "disabled by GENLAB_NO_CAIRO=1";
            return;
        }
        nint lib = 0;
        foreach (string name in Names)
        {
            if (NativeLibrary.TryLoad(name, out lib))
            {
                break;
            }
        }
        if (lib == 0)
        {
            LoadError = $"none of {string.Join(", ", Names)} could be loaded";
            return;
        }
        var missing = new List<string>();
        nint F(string symbol)
        {
            if (NativeLibrary.TryGetExport(lib, symbol, out nint p))
            {
                return p;
            }
            missing.Add(symbol);
            return 0;
        }
        ImageSurfaceCreate = (delegate* unmanaged[Cdecl]<int, int, int, nint>)F("cairo_image_surface_create");
        ImageSurfaceCreateForData = (delegate* unmanaged[Cdecl]<byte*, int, int, int, int, nint>)F("cairo_image_surface_create_for_data");
        ImageSurfaceGetData = (delegate* unmanaged[Cdecl]<nint, byte*>)F("cairo_image_surface_get_data");
        ImageSurfaceGetStride = (delegate* unmanaged[Cdecl]<nint, int>)F("cairo_image_surface_get_stride");
        SurfaceFlush = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_surface_flush");
        SurfaceDestroy = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_surface_destroy");
        SurfaceStatus = (delegate* unmanaged[Cdecl]<nint, int>)F("cairo_surface_status");
        Create = (delegate* unmanaged[Cdecl]<nint, nint>)F("cairo_create");
        Destroy = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_destroy");
        Status = (delegate* unmanaged[Cdecl]<nint, int>)F("cairo_status");
        Save = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_save");
        Restore = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_restore");
        SetSourceRgba = (delegate* unmanaged[Cdecl]<nint, double, double, double, double, void>)F("cairo_set_source_rgba");
        SetSourceSurface = (delegate* unmanaged[Cdecl]<nint, nint, double, double, void>)F("cairo_set_source_surface");
        GetSource = (delegate* unmanaged[Cdecl]<nint, nint>)F("cairo_get_source");
        PatternSetFilter = (delegate* unmanaged[Cdecl]<nint, int, void>)F("cairo_pattern_set_filter");
        PatternSetExtend = (delegate* unmanaged[Cdecl]<nint, int, void>)F("cairo_pattern_set_extend");
        Rectangle = (delegate* unmanaged[Cdecl]<nint, double, double, double, double, void>)F("cairo_rectangle");
        MoveTo = (delegate* unmanaged[Cdecl]<nint, double, double, void>)F("cairo_move_to");
        LineTo = (delegate* unmanaged[Cdecl]<nint, double, double, void>)F("cairo_line_to");
        Arc = (delegate* unmanaged[Cdecl]<nint, double, double, double, double, double, void>)F("cairo_arc");
        ClosePath = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_close_path");
        NewPath = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_new_path");
        Fill = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_fill");
        FillPreserve = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_fill_preserve");
        Stroke = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_stroke");
        Clip = (delegate* unmanaged[Cdecl]<nint, void>)F("cairo_clip");
        SetLineWidth = (delegate* unmanaged[Cdecl]<nint, double, void>)F("cairo_set_line_width");
        SetLineJoin = (delegate* unmanaged[Cdecl]<nint, int, void>)F("cairo_set_line_join");
        SetLineCap = (delegate* unmanaged[Cdecl]<nint, int, void>)F("cairo_set_line_cap");
        SetDash = (delegate* unmanaged[Cdecl]<nint, double*, int, double, void>)F("cairo_set_dash");
        Translate = (delegate* unmanaged[Cdecl]<nint, double, double, void>)F("cairo_translate");
        Rotate = (delegate* unmanaged[Cdecl]<nint, double, void>)F("cairo_rotate");
        Scale = (delegate* unmanaged[Cdecl]<nint, double, double, void>)F("cairo_scale");
        SelectFontFace = (delegate* unmanaged[Cdecl]<nint, byte*, int, int, void>)F("cairo_select_font_face");
        SetFontSize = (delegate* unmanaged[Cdecl]<nint, double, void>)F("cairo_set_font_size");
        TextExtentsOf = (delegate* unmanaged[Cdecl]<nint, byte*, TextExtents*, void>)F("cairo_text_extents");
        ShowText = (delegate* unmanaged[Cdecl]<nint, byte*, void>)F("cairo_show_text");
        if (missing.Count > 0)
        {
            LoadError = $"the Cairo library lacks {string.Join(", ", missing)}";
        }
    }
}
