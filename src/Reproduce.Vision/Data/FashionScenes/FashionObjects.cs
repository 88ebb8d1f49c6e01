using Reproduce.Torch;
using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>
/// fashion-objects: the classification dataset of the quick profile (its "ImageNet"). Image i of a split is
/// Fashion-MNIST item i of the same split (train: 60,000, test: 10,000), rendered alone in the fashion-scenes
/// style — the room (wall, checkered floor, distance shading) of <see cref="SceneRenderer.SampleRoom"/> and the
/// item tinted and shaded as a scene item (light on a dark room) — roughly centred, with a random scale, depth (shading) and tint.
/// The label is the item's class. A ViT pretrained on it sees the same visual statistics as on fashion-scenes,
/// where its features are then probed for segmentation and depth.
/// <para>
/// Every random choice of image i comes from <c>new Random(ImageSeed(seed, split, i))</c>, so images are
/// independent of each other and of the order they are read in, and byte-identical for equal seeds. Images are
/// rendered on demand (about 0.1 ms each at 64×64 here, far below a training step's cost per image) rather than
/// cached: the 60,000 train images would take 737 MB as uint8.
/// </para>
/// </summary>
public sealed class FashionObjects : IImageDataset<ClassificationSample>
{
    /// <summary>Default image side (the quick profile's <c>vit_tiny_scenes64</c> input).</summary>
    public const int DefaultSize = 64;

    private readonly FashionMnistSplit _items;

    /// <summary>The dataset over <paramref name="items"/> (Fashion-MNIST's <paramref name="split"/>) at <paramref name="size"/>².</summary>
    public FashionObjects(FashionMnistSplit items, string split, int seed, int size = DefaultSize)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(split);
        if (split is not ("train" or "test")) throw new ArgumentException($"fashion-objects: split must be 'train' or 'test', not '{split}'", nameof(split));
        if (size is < 16 or > 1024) throw new ArgumentOutOfRangeException(nameof(size), size, "fashion-objects: image side must be within 16..1024");
        (_items, Split, Seed, Size) = (items, split, seed, size);
    }

    /// <summary>Loads Fashion-MNIST's <paramref name="split"/> (optionally from <paramref name="root"/>) and wraps it.</summary>
    public static FashionObjects Open(string split, int seed, int size = DefaultSize, string? root = null) =>
        new(FashionMnist.Load(split, root), split, seed, size);

    /// <summary>"train" or "test".</summary>
    public string Split { get; }

    /// <summary>Seed of every random choice.</summary>
    public int Seed { get; }

    /// <summary>Image side in pixels (images are square).</summary>
    public int Size { get; }

    /// <summary>Class names: Fashion-MNIST's ten.</summary>
    public static IReadOnlyList<string> Classes => FashionMnistSplit.Classes;

    /// <inheritdoc/>
    public string Name => $"fashion-objects/{Split}";

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public IReadOnlyList<DataProblem> Problems => [];

    /// <summary>Class of image <paramref name="index"/> (= its Fashion-MNIST item's label).</summary>
    public int Label(int index) => _items.Labels[CheckIndex(index)];

    /// <summary>The layout image <paramref name="index"/> is rendered from: the room and its single item.</summary>
    public SceneLayout Layout(int index)
    {
        CheckIndex(index);
        var rng = new Random(ImageSeed(Seed, Split, index));
        var room = SceneRenderer.SampleRoom(rng, Size, Size);
        // Roughly centred (±4 % jitter), 70–90 % of the image, at 1.2–4 m for the distance shading. (55–90 % and ±8 %
        // left a PyTorch ViT replica at 34 % instead of 41 % after 200 steps of 32: Probes/README.md.)
        var side = Size * (0.70 + 0.20 * rng.NextDouble());
        var cx = Size * (0.5 + 0.08 * (rng.NextDouble() - 0.5));
        var cy = Size * (0.5 + 0.08 * (rng.NextDouble() - 0.5));
        var depth = 1.2 + 2.8 * rng.NextDouble();
        var item = new SceneItem(_items.Labels[index], index, depth, cx - side / 2, cy - side / 2, side, SceneRenderer.ItemTint(rng));
        return room with { Items = [item] };
    }

    /// <summary>Image <paramref name="index"/> rendered (RGB bytes, per-pixel labels in fashion-scenes ids, depth).</summary>
    public Scene Render(int index) => SceneRenderer.Render(Layout(index), _items, Size, Size);

    /// <summary>Image <paramref name="index"/>'s RGB bytes, row-major [H,W,3].</summary>
    public byte[] RenderRgb(int index) => Render(index).Rgb;

    /// <inheritdoc/>
    public ClassificationSample Load(int index)
    {
        var rgb = Render(index).Rgb;
        using var scope = Scope.Enter();
        var chw = Tensor.From<byte>(rgb, [Size, Size, 3]).Permute(2, 0, 1).Contiguous();
        return new ClassificationSample(scope.MoveOut(chw), Label(index), $"{Name}/{index}");
    }

    /// <inheritdoc/>
    public DataProblem? Check(int index, bool decode = true) => null; // generated: nothing on disk can be broken

    /// <summary>The seed of one image: <see cref="FashionScenes.SceneSeed"/> with the seed salted, so objects and scenes of one seed differ.</summary>
    public static int ImageSeed(int seed, string split, int index) => FashionScenes.SceneSeed(seed ^ 0x0B1EC75, split, index);

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)_items.Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name}: index outside [0, {_items.Count})");
        return index;
    }
}
