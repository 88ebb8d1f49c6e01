using Reproduce.Torch;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Training.Annotation;

/// <summary>
/// <c>reproduce annotate</c> under <c>reproduce launch</c>: rank r annotates images r, r + W, r + 2W, … into its own
/// store beside the output (<see cref="ShardPath"/>); after a barrier rank 0 copies every record into the output store
/// in the single-process order (the records are stored values, so the copy is exact) and deletes the shards. Every
/// image is annotated exactly once; the output store is written atomically, as a single process writes it.
/// </summary>
internal static class AnnotationShards
{
    /// <summary>The indices of <paramref name="count"/> images this rank annotates (all of them when alone).</summary>
    public static int[] Mine(int count, DataParallel? dp) =>
        Enumerable.Range(0, count).Where(i => dp is null || i % dp.WorldSize == dp.Rank).ToArray();

    /// <summary>The store rank <paramref name="rank"/> of <paramref name="world"/> writes: a hidden file beside <paramref name="output"/>.</summary>
    public static string ShardPath(string output, int rank, int world)
    {
        var full = Path.GetFullPath(output);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.rank{rank}-of-{world}");
    }

    /// <summary>Rank 0: the shards merged into <paramref name="output"/> in the order of <paramref name="keys"/>[0 … count−1]; the shards are deleted.</summary>
    public static void Merge(DataParallel dp, string output, IReadOnlyList<string> keys, int count)
    {
        ArgumentNullException.ThrowIfNull(dp);
        var shards = Enumerable.Range(0, dp.WorldSize).Select(r => ShardPath(output, r, dp.WorldSize)).ToArray();
        var stores = new TokenLabelStore?[shards.Length];
        try
        {
            for (var r = 0; r < shards.Length; r++)
                stores[r] = File.Exists(shards[r]) ? TokenLabelStore.Open(shards[r])
                    : r < count ? throw new AnnotationException($"annotate: rank {r} wrote no store ({shards[r]} is missing)") : null;
            var f = stores[0]!.Format;
            using var writer = new TokenLabelStoreWriter(output, f.TopK, f.Height, f.Width, f.NumClasses);
            for (var i = 0; i < count; i++)
            {
                using var scope = Scope.Enter();
                var map = stores[i % dp.WorldSize]!.Read(keys[i]);
                writer.Add(keys[i], map.Values, map.Indices);
            }
            writer.Complete();
        }
        finally
        {
            foreach (var s in stores) s?.Dispose();
        }
        foreach (var shard in shards) File.Delete(shard);
    }
}
