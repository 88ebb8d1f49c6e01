using System.Text.Json;
using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

/// <summary>
/// <see cref="TorchCheckpoint"/> against files written by PyTorch 1.13 (tests/fixtures/torch_checkpoint/make_checkpoints.py):
/// every tensor's path, shape, dtype and values equal what PyTorch saved; non-tensor values are leaves.
/// </summary>
[Collection(SerialCollection.Name)]
public class TorchCheckpointTests
{
    internal static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "torch_checkpoint", name);

    [Theory]
    [InlineData("wrapped.pth")]
    [InlineData("plain.pth")]
    [InlineData("single.pth")]
    public void TensorsEqualWhatPyTorchSaved(string file)
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(FixturePath("reference.json")));
        var expected = reference.RootElement.GetProperty(file).EnumerateArray().ToList();
        using var s = Scope.Enter();
        using var ckpt = TorchCheckpoint.Read(FixturePath(file));
        var tensors = ckpt.Entries.Where(e => e.Tensor is not null).ToList();
        Assert.Equal(expected.Count, tensors.Count);
        foreach (var (want, got) in expected.Zip(tensors))
        {
            Assert.Equal(want.GetProperty("path").EnumerateArray().Select(p => p.GetString()!), got.Path);
            Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), got.Tensor!.Shape);
            Assert.Equal(want.GetProperty("dtype").GetString(), DTypeName(got.Tensor.DType));
            Assert.Equal(want.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()), got.Tensor.Double().ToArray<double>());
        }
    }

    [Fact]
    public void TrainingCheckpointsKeepTheirNonTensorValuesAsLeaves()
    {
        using var s = Scope.Enter();
        using var ckpt = TorchCheckpoint.Read(FixturePath("wrapped.pth"));
        string Leaf(string path) => ckpt.Entries.Single(e => e.PathText == path).Description;
        Assert.Equal("int 3", Leaf("epoch"));
        Assert.Equal("object argparse.Namespace", Leaf("args"));
        Assert.Equal("object numpy.core.multiarray.scalar", Leaf("best"));
        Assert.Equal("int 10", Leaf("optimizer/state/0/step"));
        Assert.Equal("tensor", Leaf("optimizer/state/0/exp_avg"));
        Assert.StartsWith("float 0.9", Leaf("optimizer/param_groups/[0]/betas/[0]"));
        // state_dict's _metadata attribute is not an entry
        Assert.DoesNotContain(ckpt.Entries, e => e.PathText.Contains("metadata", StringComparison.Ordinal) || e.PathText.Contains("__rn", StringComparison.Ordinal));
        Assert.Equal(9, ckpt.Entries.Count(e => e.Path[0] == "model"));
    }

    [Fact]
    public void LegacyFormatIsRefusedWithHowToConvert()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Read(FixturePath("legacy.pth")));
        Assert.Contains("legacy.pth", e.Message, StringComparison.Ordinal);
        Assert.Contains("torch.save(torch.load(f", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonArchivesAndTruncatedFilesNameTheFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Read("not a checkpoint"u8, "x.pth"));
        Assert.Contains("x.pth", e.Message, StringComparison.Ordinal);
        var bytes = File.ReadAllBytes(FixturePath("wrapped.pth"));
        var t = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Read(bytes.AsSpan(0, bytes.Length / 2), "half.pth"));
        Assert.Contains("half.pth", t.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => TorchCheckpoint.Read(FixturePath("missing.pth")));
    }

    private static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        _ => t.ToString(),
    };
}
