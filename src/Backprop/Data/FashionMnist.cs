namespace Backprop.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul &amp; Vollgraf, 2017): 28×28 greyscale images of clothing in 10
/// classes, 60,000 for training and 10,000 for testing, read from Debian's
/// <c>dataset-fashion-mnist</c> package.
/// </summary>
/// <remarks>
/// Pixels are kept as bytes and read as 0…1 (byte / 255); each image is one row of 784 inputs
/// named <c>pixel1</c> … <c>pixel784</c>, row by row.
/// </remarks>
public static class FashionMnist
{
    /// <summary>Where Debian's package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package that ships the files.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Each image is <see cref="ImageSide"/> × <see cref="ImageSide"/> grey-scale pixels (784 inputs).</summary>
    public const int ImageSide = 28;

    /// <summary>The ten classes, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The 60,000 training images.</summary>
    /// <exception cref="BackpropException">The files are missing (the message names the package to install) or malformed.</exception>
    public static Dataset LoadTrain(string directory = DefaultDirectory) => Load(directory, "train");

    /// <summary>The 10,000 test images.</summary>
    /// <exception cref="BackpropException">The files are missing (the message names the package to install) or malformed.</exception>
    public static Dataset LoadTest(string directory = DefaultDirectory) => Load(directory, "t10k");

    private static Dataset Load(string directory, string prefix)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var images = Find(directory, $"{prefix}-images-idx3-ubyte");
        var labels = Find(directory, $"{prefix}-labels-idx1-ubyte");
        return IdxDataset.Load("fashion-mnist", images, labels, ClassNames);
    }

    // The package ships gzip files; plain ones (gunzipped by hand) are accepted too.
    private static string Find(string directory, string name)
    {
        foreach (var candidate in (string[])[name + ".gz", name])
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new BackpropException(
            $"Fashion-MNIST is not installed: {Path.Combine(directory, name + ".gz")} is missing. Install Debian's package {DebianPackage} (sudo apt-get install {DebianPackage}).");
    }
}

/// <summary>A classification dataset from a pair of IDX files: images (or any rows of unsigned bytes) and labels.</summary>
public static class IdxDataset
{
    /// <summary>
    /// Reads <paramref name="imagesPath"/> ([count, …] unsigned bytes, read as byte / 255) and
    /// <paramref name="labelsPath"/> ([count] unsigned bytes, each a class index).
    /// </summary>
    /// <exception cref="BackpropException">A file is missing or malformed, or the two do not match.</exception>
    public static Dataset Load(string name, string imagesPath, string labelsPath, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        return FromFiles(name, IdxFile.Load(imagesPath), imagesPath, IdxFile.Load(labelsPath), labelsPath, classNames);
    }

    /// <summary>The dataset of two IDX arrays already read; the paths name them in messages.</summary>
    internal static Dataset FromFiles(string name, IdxFile images, string imagesPath, IdxFile labels, string labelsPath, IReadOnlyList<string> classNames)
    {
        if (images.Type != IdxType.UnsignedByte || images.Dimensions.Count < 2)
        {
            throw new BackpropException($"{imagesPath}: expected images of unsigned bytes with at least 2 dimensions (count, pixels…); found {images.Type} [{string.Join("×", images.Dimensions)}].");
        }
        if (labels.Type != IdxType.UnsignedByte || labels.Dimensions.Count != 1)
        {
            throw new BackpropException($"{labelsPath}: expected labels of unsigned bytes with 1 dimension; found {labels.Type} [{string.Join("×", labels.Dimensions)}].");
        }
        var count = images.Dimensions[0];
        if (labels.Dimensions[0] != count)
        {
            throw new BackpropException($"{labelsPath}: has {labels.Dimensions[0]} labels but {imagesPath} has {count} images.");
        }
        if (count == 0)
        {
            throw new BackpropException($"{imagesPath}: holds no images.");
        }
        var columns = images.Length / count;
        if (columns == 0)
        {
            throw new BackpropException($"{imagesPath}: the images [{string.Join("×", images.Dimensions)}] have no pixels.");
        }
        var targets = new double[count];
        var bytes = labels.Bytes;
        for (var i = 0; i < count; i++)
        {
            if (bytes[i] >= classNames.Count)
            {
                // Labels start after the 4-byte magic number and one 4-byte size.
                throw new BackpropException($"{labelsPath}: byte {8 + i}: label {bytes[i]} is not a class (0 to {classNames.Count - 1}).");
            }
            targets[i] = bytes[i];
        }
        var inputNames = Enumerable.Range(1, columns).Select(i => $"pixel{i}").ToArray();
        return new Dataset(name, new ByteFeatures(images.ByteArray, columns, 1.0 / 255), targets, inputNames, ["label"], classNames);
    }
}
