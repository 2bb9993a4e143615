using System.Xml.Linq;
using Lab.Core.Imaging;
using Lab.Core.Tests.IO;

namespace Lab.Core.Tests.Imaging;

public class GalleryTests
{
    /// <summary>Renders every plot kind and saves it; set GENLAB_IMAGING_LOOK to a folder to keep the files and
    /// look at them.</summary>
    [Fact]
    public void EveryPlot_SavesSvgAndPngWhenCairoIsThere()
    {
        using var tmp = new TempDirectory();
        string folder = Environment.GetEnvironmentVariable("GENLAB_IMAGING_LOOK") is { Length: > 0 } look ? look : tmp.Path;
        foreach (var (name, figure) in Gallery.All())
        {
            var result = figure.Save(Path.Combine(folder, name));
            Assert.NotNull(result.Svg);
            XDocument.Load(result.Svg!);
            Assert.Equal(Cairo.IsAvailable, result.Png is not null);
            if (result.Png is not null)
            {
                Assert.True(Png.Signature.SequenceEqual(File.ReadAllBytes(result.Png).AsSpan(0, 8)));
            }
        }
    }
}
