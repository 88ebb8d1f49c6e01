using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

/// <summary>
/// Interop with PyTorch through tests/fixtures/safetensors_reference.py, an independent
/// implementation of the spec (stdlib + torch). Both sides generate the same known tensor set.
/// </summary>
[Collection(SerialCollection.Name)]
public class SafeTensorsInteropTests
{
    private const string Python = "/usr/bin/python3";
    private const string InstallHint = "apt-get install python3-torch";

    // Must stay identical to SPECS in safetensors_reference.py.
    private static readonly (string Name, string Code, long[] Shape, int Salt)[] Specs =
    [
        ("alpha.weight", "F32", [3, 4], 1),
        ("beta.f64", "F64", [2, 3], 2),
        ("gamma.f16", "F16", [5], 3),
        ("delta.bf16", "BF16", [2, 2, 3], 4),
        ("idx.i64", "I64", [7], 5),
        ("idx.i32", "I32", [2, 3], 6),
        ("idx.i16", "I16", [4], 7),
        ("small.i8", "I8", [3, 3], 8),
        ("bytes.u8", "U8", [10], 9),
        ("mask.bool", "BOOL", [2, 5], 10),
        ("scalar", "F32", [], 11),
        ("scalar.i64", "I64", [], 12),
        ("empty.f32", "F32", [0, 3], 13),
        ("empty.bool", "BOOL", [0], 14),
        ("unicode.ключ/é \"q\"\\\t\n", "F16", [2], 15),
    ];

    private static readonly uint[] SpecialF32 = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFC12345, 0x00000001];
    private static readonly ushort[] SpecialBf16 = [0x7FC1, 0xFF81, 0x0001, 0x8000];

    private static readonly Dictionary<string, string> Metadata = new()
    {
        ["format"] = "pt",
        ["source"] = "safetensors_reference.py",
        ["note"] = "ü ✓ \"quoted\" \\ \n tab\t",
    };

    /// <summary>The known set, element by element from the same integer formulas as the Python script.</summary>
    private static Dictionary<string, Tensor> KnownSet()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (name, code, shape, salt) in Specs)
        {
            SafeTensorsDTypes.TryParse(code, out var dtype);
            var n = shape.Aggregate(1L, (a, b) => a * b);
            var k = Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray();
            d[name] = code switch
            {
                "F64" or "F32" or "F16" or "BF16" => Tensor.From(k.Select(i => ((i * 37 + salt * 11) % 101 - 50) / 8.0).ToArray(), shape).To(dtype),
                "BOOL" => Tensor.From(k.Select(i => (i + salt) % 3 == 0).ToArray(), shape),
                "U8" => Tensor.From(k.Select(i => (byte)((i * 37 + salt * 11) % 256)).ToArray(), shape),
                "I8" => Tensor.From(k.Select(i => (sbyte)((i * 37 + salt * 11) % 256 - 128)).ToArray(), shape),
                "I16" => Tensor.From(k.Select(i => (short)((i * 7919 + salt * 101) % 65536 - 32768)).ToArray(), shape),
                "I32" => Tensor.From(k.Select(i => (int)((i * 2654435761L + salt * 12345L) % (1L << 32) - (1L << 31))).ToArray(), shape),
                "I64" => Tensor.From(k.Select(i => unchecked((long)((ulong)i * 6364136223846793005UL + 1442695040888963407UL + (ulong)salt - 9223372036854775808UL))).ToArray(), shape),
                _ => throw new InvalidOperationException(code),
            };
        }
        d["specials.f32"] = Tensor.From(SpecialF32.Select(BitConverter.UInt32BitsToSingle).ToArray());
        d["specials.bf16"] = Tensor.From(SpecialBf16.Select(b => new BFloat16(b)).ToArray());
        return d;
    }

    private sealed record Summary(string DType, long[] Shape, string Sha256, double? Sum);

    private static Summary Summarize(Tensor t)
    {
        var sum = t.DType.IsFloatingPoint() ? t.To(ScalarType.Float64).Sum().ToDouble() : (double?)null;
        return new Summary(SafeTensorsDTypes.Code(t.DType), t.Shape, Convert.ToHexStringLower(SHA256.HashData(t.ToBytes())), sum);
    }

    private static void AssertSummariesEqual(IReadOnlyDictionary<string, Summary> expected, IReadOnlyDictionary<string, Summary> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, e) in expected)
        {
            var a = actual[k];
            Assert.True(e.DType == a.DType, $"{what} '{k}': dtype {a.DType}, expected {e.DType}");
            Assert.True(e.Shape.SequenceEqual(a.Shape), $"{what} '{k}': shape {Tensor.FormatShape(a.Shape)}, expected {Tensor.FormatShape(e.Shape)}");
            Assert.True(e.Sha256 == a.Sha256, $"{what} '{k}': sha256 {a.Sha256}, expected {e.Sha256}");
            Assert.True(Nullable.Equals(e.Sum, a.Sum), $"{what} '{k}': sum {a.Sum}, expected {e.Sum}");
        }
    }

    private static string FixturePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "tests", "fixtures", "safetensors_reference.py");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"tests/fixtures/safetensors_reference.py not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs the reference script; fails (never skips) when Python or torch is missing.</summary>
    private static string RunReference(string mode, string path)
    {
        if (!File.Exists(Python))
            Assert.Fail($"{Python} is missing; the PyTorch interop tests need Debian's PyTorch: {InstallHint}");
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(FixturePath());
        psi.ArgumentList.Add(mode);
        psi.ArgumentList.Add(path);
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"safetensors_reference.py {mode} timed out");
        }
        var err = stderr.Result;
        if (err.Contains("No module named 'torch'", StringComparison.Ordinal))
            Assert.Fail($"{Python} cannot import torch; the PyTorch interop tests need it: {InstallHint}\n{err}");
        Assert.True(p.ExitCode == 0, $"safetensors_reference.py {mode} {path} exited with {p.ExitCode}:\n{err}");
        return stdout;
    }

    [Fact]
    public void FileWrittenByCSharpReadsIdenticallyInPyTorch()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File("from-csharp.safetensors");
        var known = KnownSet();
        SafeTensors.Save(path, known, Metadata);

        using var json = JsonDocument.Parse(RunReference("read", path));
        var root = json.RootElement;
        var actual = new Dictionary<string, Summary>();
        foreach (var t in root.GetProperty("tensors").EnumerateObject())
        {
            double? sum = null;
            if (t.Value.TryGetProperty("sum", out var s))
                sum = s.ValueKind == JsonValueKind.Number ? s.GetDouble() : s.GetString() switch
                {
                    "nan" => double.NaN,
                    "inf" => double.PositiveInfinity,
                    "-inf" => double.NegativeInfinity,
                    var other => throw new FormatException($"sum '{other}'"),
                };
            actual[t.Name] = new Summary(t.Value.GetProperty("dtype").GetString()!,
                t.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
                t.Value.GetProperty("sha256").GetString()!, sum);
        }
        AssertSummariesEqual(known.ToDictionary(x => x.Key, x => Summarize(x.Value)), actual, "PyTorch reading the C# file");
        var meta = root.GetProperty("metadata").EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetString()!);
        Assert.Equal(Metadata.OrderBy(x => x.Key, StringComparer.Ordinal), meta.OrderBy(x => x.Key, StringComparer.Ordinal));
        // PyTorch sees the data in the official writer's order.
        Assert.Equal(SafeTensors.ReadHeader(path).Entries.Select(e => e.Name), root.GetProperty("order").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal("idx.i64", root.GetProperty("order")[0].GetString());
    }

    [Fact]
    public void FileWrittenByPyTorchLoadsIdenticallyInCSharp()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File("from-python.safetensors");
        RunReference("write", path);

        var loaded = SafeTensors.Load(path, out var header);
        var known = KnownSet();
        AssertSummariesEqual(known.ToDictionary(x => x.Key, x => Summarize(x.Value)), loaded.ToDictionary(x => x.Key, x => Summarize(x.Value)), "C# reading the PyTorch file");
        foreach (var (k, t) in known) Assert.True(t.ToBytes().AsSpan().SequenceEqual(loaded[k].ToBytes()), $"'{k}' bytes differ");
        Assert.Equal(Metadata.OrderBy(x => x.Key, StringComparer.Ordinal), header.Metadata.OrderBy(x => x.Key, StringComparer.Ordinal));
        // The script lays data out by name (not the official dtype order) and its JSON lists keys in reverse.
        var nonEmpty = header.Entries.Where(e => e.ByteLength > 0).Select(e => e.Name).ToArray();
        Assert.Equal(nonEmpty.Order(StringComparer.Ordinal), nonEmpty);
        Assert.Equal(new FileInfo(path).Length, header.DataStart + header.DataLength);
    }
}
