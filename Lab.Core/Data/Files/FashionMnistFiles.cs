namespace Lab.Core.Data.Files;

/// <summary>
/// The four Fashion-MNIST IDX files (60000 training and 10000 test images, 28x28, 10 classes), as installed by
/// Debian's <c>dataset-fashion-mnist</c> package under <see cref="DefaultDirectory"/>.
/// </summary>
public sealed record FashionMnistFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels)
{
    /// <summary>Where <c>apt-get install dataset-fashion-mnist</c> puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names, by label.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static readonly string[] BaseNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>Reads the 60000 training images and labels (each label checked to be one of the 10 classes).</summary>
    public IdxLabeledImages LoadTrain() => IdxFile.ReadPair(TrainImages, TrainLabels, ClassNames.Count);

    /// <summary>Reads the 10000 test images and labels (each label checked to be one of the 10 classes).</summary>
    public IdxLabeledImages LoadTest() => IdxFile.ReadPair(TestImages, TestLabels, ClassNames.Count);

    /// <summary>
    /// Finds the four files in <paramref name="directory"/> (each as <c>name.gz</c> or, decompressed, <c>name</c>).
    /// Returns null when any is missing, with <paramref name="reason"/> saying which and how to install them.
    /// </summary>
    public static FashionMnistFiles? TryLocate(out string reason, string directory = DefaultDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var found = new string[BaseNames.Length];
        var missing = new List<string>();
        for (int i = 0; i < BaseNames.Length; i++)
        {
            string gz = Path.Combine(directory, BaseNames[i] + ".gz");
            string raw = Path.Combine(directory, BaseNames[i]);
            found[i] = File.Exists(gz) ? gz : File.Exists(raw) ? raw : "";
            if (found[i].Length == 0)
            {
                missing.Add(BaseNames[i] + ".gz");
            }
        }
        if (missing.Count > 0)
        {
            reason = !Directory.Exists(directory)
                ? $"Fashion-MNIST not found: {directory} does not exist (apt-get install dataset-fashion-mnist)."
                : $"Fashion-MNIST incomplete in {directory}: missing {string.Join(", ", missing)}.";
            return null;
        }
        reason = "";
        return new FashionMnistFiles(found[0], found[1], found[2], found[3]);
    }
}
