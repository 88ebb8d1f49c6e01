using Reproduce.Torch;
using Reproduce.Torch.IO;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// The <see cref="IImageDataset{TSample}.Check"/> of a dataset whose samples are an image and a per-pixel target PNG
/// (ADE20K's annotation, NYUv2's and KITTI's depth): decoding runs the reader itself, so it finds whatever
/// <c>Load</c> would reject; the header-only check reads the two headers and catches the common layout errors.
/// </summary>
internal static class PairedFileCheck
{
    /// <summary>
    /// The problem with the pair, or null. <paramref name="target"/> names the target file in messages
    /// ("annotation", "depth"); <paramref name="imageCheck"/> adds a header-only check of the image (e.g. a crop that
    /// must fit).
    /// </summary>
    public static DataProblem? Run(string imagePath, string targetPath, string target, int bitDepth, bool decode, Action load,
        Func<ImageInfo, DataProblem?>? imageCheck = null)
    {
        var current = imagePath;
        try
        {
            if (decode)
            {
                using var scope = Scope.Enter();
                load();
                return null;
            }
            var image = ImageCodec.ReadInfo(imagePath);
            current = targetPath;
            var info = ImageCodec.ReadInfo(targetPath);
            if (info.Format != ImageFormat.Png || info.Channels != 1 || info.BitDepth != bitDepth)
                return new DataProblem(targetPath, $"{target} must be a single-channel {bitDepth}-bit PNG, got {info.Format} with {info.Channels} channel(s) of {info.BitDepth} bits");
            if (info.Height != image.Height || info.Width != image.Width)
                return new DataProblem(targetPath, $"{target} is {info.Height}×{info.Width} but its image {imagePath} is {image.Height}×{image.Width}");
            return imageCheck?.Invoke(image);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // The readers' messages start with the file they are about.
            var path = e.Message.StartsWith(targetPath, StringComparison.Ordinal) ? targetPath
                : e.Message.StartsWith(imagePath, StringComparison.Ordinal) ? imagePath : current;
            return DataProblem.FromException(path, e);
        }
    }
}
