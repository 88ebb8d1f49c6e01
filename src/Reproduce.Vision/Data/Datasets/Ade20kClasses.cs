using System.Globalization;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// The 150 SceneParsing classes in label order (label 1 → index 0 after reduce_zero_label), named as in
/// mmsegmentation's <c>ADE20KDataset</c> (open-mmlab/mmsegmentation, mmseg/datasets/ade.py; its 'bed '
/// carries a stray trailing space, dropped here), and the reader of the devkit's <c>objectInfo150.txt</c>.
/// </summary>
public static class Ade20kClasses
{
    /// <summary>mmseg's 150 class names.</summary>
    public static readonly IReadOnlyList<string> Names =
    [
        "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass", "cabinet", "sidewalk",
        "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car", "water", "painting", "sofa",
        "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp",
        "bathtub", "railing", "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink",
        "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table", "pillow",
        "screen door", "stairway", "river", "bridge", "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill",
        "bench", "countertop", "stove", "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine",
        "hovel", "bus", "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth",
        "television receiver", "airplane", "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle",
        "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
        "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food",
        "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen", "blanket",
        "sculpture", "hood", "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen", "plate",
        "monitor", "bulletin board", "shower", "radiator", "glass", "clock", "flag",
    ];

    /// <summary>The devkit's class list file name, at the root of ADEChallengeData2016.</summary>
    public const string ObjectInfoFile = "objectInfo150.txt";

    /// <summary>
    /// Reads an <c>objectInfo150.txt</c>: a header line (<c>Idx Ratio Train Val Name</c>), then one
    /// tab-separated row per class with Idx = 1, 2, …; names are the first synonym (before ';').
    /// Malformed rows are reported with their line numbers.
    /// </summary>
    public static (IReadOnlyList<string> Names, IReadOnlyList<DataProblem> Problems) ReadObjectInfo(string path)
    {
        var names = new List<string>();
        var problems = new List<DataProblem>();
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || (i == 0 && line.StartsWith("Idx", StringComparison.OrdinalIgnoreCase))) continue;
            var cols = line.Split('\t');
            if (cols.Length < 5)
            {
                problems.Add(new DataProblem(path, $"expected 5 tab-separated columns (Idx Ratio Train Val Name), got {cols.Length}", i + 1));
                continue;
            }
            if (!int.TryParse(cols[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var idx) || idx != names.Count + 1)
            {
                problems.Add(new DataProblem(path, $"class index '{cols[0]}' where {names.Count + 1} was expected", i + 1));
                continue;
            }
            names.Add(cols[4].Split(';')[0].Trim());
        }
        if (names.Count == 0) problems.Add(new DataProblem(path, "no class rows"));
        return (names, problems);
    }
}
