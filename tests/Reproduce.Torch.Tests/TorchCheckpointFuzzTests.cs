using System.IO.Compression;
using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

/// <summary>
/// Seeded mutations of torch.save files: truncations and byte flips of the archive (local headers, central directory),
/// and mutations of the pickle stream and tensor records re-packed into a valid archive (so they reach libtorch's
/// unpickler past the zip CRC check). Every mutant must either load (and its tensors be readable) or be refused with an
/// <see cref="InvalidDataException"/> naming it; a native crash would end the test host.
/// </summary>
[Collection(SerialCollection.Name)]
public class TorchCheckpointFuzzTests
{
    private const int CasesPerFile = 300;

    private static readonly byte[] Opcodes = "]})(NKMJGXqrhjtlduaecRbQs.\u0080\u0081\u0085\u0086\u0087\u0088\u0089\u008a"u8.ToArray();

    [Theory]
    [InlineData("wrapped.pth", 1)]
    [InlineData("plain.pth", 2)]
    public void MutantsLoadOrFailNamingTheFile(string file, int seed)
    {
        var original = File.ReadAllBytes(TorchCheckpointTests.FixturePath(file));
        var entries = Unzip(original);
        var rng = new Random(seed);
        var (loaded, refused) = (0, 0);
        for (var i = 0; i < CasesPerFile; i++)
        {
            var kind = i % 6;
            var mutant = kind switch
            {
                0 => original[..rng.Next(original.Length)],
                1 => Flip(original, rng, original.Length - Math.Min(original.Length, 200)),
                2 => Flip(original, rng, 0),
                3 => Zip(entries, "data.pkl", MutatePickle(entries.First(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal)).Bytes, rng)),
                4 => Zip(entries, "data.pkl", MutatePickle(MutatePickle(entries.First(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal)).Bytes, rng), rng)),
                _ => Zip(entries, "/data/0", entries.First(e => e.Name.EndsWith("/data/0", StringComparison.Ordinal)).Bytes[..rng.Next(8)]),
            };
            var name = $"{file}#mutant{i}";
            try
            {
                using var s = Scope.Enter();
                using var ckpt = TorchCheckpoint.Read(mutant, name);
                foreach (var e in ckpt.Entries.Where(e => e.Tensor is not null && e.Tensor.DType is ScalarType.Float32 or ScalarType.Float64))
                    _ = e.Tensor!.Sum().ToDouble();
                loaded++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(name, e.Message, StringComparison.Ordinal);
                refused++;
            }
        }
        Assert.Equal(CasesPerFile, loaded + refused);
        Assert.True(refused > CasesPerFile / 3, $"only {refused} of {CasesPerFile} mutants were refused");
    }

    private sealed record ZipEntryBytes(string Name, byte[] Bytes);

    private static List<ZipEntryBytes> Unzip(byte[] file)
    {
        using var zip = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read);
        return zip.Entries.Select(e =>
        {
            using var m = new MemoryStream();
            using (var s = e.Open()) s.CopyTo(m);
            return new ZipEntryBytes(e.FullName, m.ToArray());
        }).ToList();
    }

    private static byte[] Zip(List<ZipEntryBytes> entries, string replaceSuffix, byte[] replacement)
    {
        var m = new MemoryStream();
        using (var zip = new ZipArchive(m, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var e in entries)
            {
                using var s = zip.CreateEntry(e.Name, CompressionLevel.NoCompression).Open();
                s.Write(e.Name.EndsWith(replaceSuffix, StringComparison.Ordinal) ? replacement : e.Bytes);
            }
        return m.ToArray();
    }

    private static byte[] Flip(byte[] file, Random rng, int from)
    {
        var b = (byte[])file.Clone();
        for (var k = rng.Next(1, 4); k > 0; k--) b[rng.Next(from, b.Length)] ^= (byte)rng.Next(1, 256);
        return b;
    }

    private static byte[] MutatePickle(byte[] pkl, Random rng)
    {
        var b = new List<byte>(pkl);
        var at = rng.Next(b.Count);
        switch (rng.Next(6))
        {
            case 0: b[at] ^= (byte)rng.Next(1, 256); break;
            case 1: b[at] = Opcodes[rng.Next(Opcodes.Length)]; break;
            case 2: b.RemoveRange(at, Math.Min(b.Count - at, rng.Next(1, 6))); break;
            case 3: b.Insert(at, Opcodes[rng.Next(Opcodes.Length)]); break;
            case 4: b.RemoveRange(at, b.Count - at); break;
            default:
                var from = rng.Next(b.Count);
                b.InsertRange(at, b.Skip(from).Take(rng.Next(1, 40)).ToList());
                break;
        }
        return b.ToArray();
    }
}
