using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

/// <summary>Every whole-file write of the run store and the checkpoints goes through <see cref="AtomicFile"/>.</summary>
public class AtomicFileTests
{
    [Fact]
    public void AFailedWriteLeavesThePreviousFileIntactAndNoTemporaryFiles()
    {
        using var dir = new TempDir();
        var path = dir.File("final.json");
        AtomicFile.WriteAllText(path, "{\"top1\":70}");
        var before = File.ReadAllBytes(path);
        AtomicFile.BeforeRename = _ => throw new IOException("disk full (injected)");
        try
        {
            Assert.Throws<IOException>(() => AtomicFile.WriteAllText(path, "{\"top1\":80}"));
        }
        finally
        {
            AtomicFile.BeforeRename = null;
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.DoesNotContain(Directory.EnumerateFiles(dir.Path), f => AtomicFile.IsTempName(Path.GetFileName(f)));

        var missing = Path.Combine(dir.Path, "no", "such", "dir", "x.json");
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(missing, "x"));
        Assert.Contains("does not exist", e.Message);
    }
}
