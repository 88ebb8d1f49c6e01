using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

/// <summary>
/// Seeded mutations of a valid file. Every mutant must either load (and then be self-consistent)
/// or be rejected with <see cref="SafeTensorsException"/> naming it; nothing else may escape.
/// </summary>
[Collection(SerialCollection.Name)]
public partial class SafeTensorsFuzzTests
{
    private const int Cases = 1200;

    private static readonly string[] DTypeCodes =
        ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U16", "U64", "F8_E4M3", "f32", "", "BF17", "F3"];

    private static readonly string[] Mutations =
        ["byte-flip", "truncate", "number-edit", "dtype-swap", "structure", "length-prefix", "key-edit", "data-edit"];

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex("\"[^\"]*\":")]
    private static partial Regex Keys();

    private static byte[] BaseFile()
    {
        using var s = Scope.Enter();
        var rng = new Random(99);
        Tensor Rand(ScalarType dt, long[] shape)
        {
            var b = new byte[shape.Aggregate(1L, (x, y) => x * y) * dt.ElementSize()];
            rng.NextBytes(b);
            if (dt == ScalarType.Bool) for (var i = 0; i < b.Length; i++) b[i] &= 1;
            return Tensor.FromBytes(b, dt, shape);
        }
        var tensors = new Dictionary<string, Tensor>
        {
            ["blocks.0.w"] = Rand(ScalarType.Float32, [2, 3]),
            ["blocks.0.b"] = Rand(ScalarType.BFloat16, [4]),
            ["index"] = Rand(ScalarType.Int64, [3]),
            ["mask"] = Rand(ScalarType.Bool, [5]),
            ["scale"] = Rand(ScalarType.Float64, []),
            ["empty"] = Rand(ScalarType.Float16, [0, 2]),
            ["bytes"] = Rand(ScalarType.UInt8, [7]),
            ["small"] = Rand(ScalarType.Int8, [2, 2]),
            ["half"] = Rand(ScalarType.Int16, [3]),
            ["count"] = Rand(ScalarType.Int32, [1]),
        };
        return SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["format"] = "pt", ["step"] = "12" });
    }

    private static (string Header, byte[] Data) Split(byte[] file)
    {
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (Encoding.UTF8.GetString(file, 8, n), file[(8 + n)..]);
    }

    /// <summary>Reassembles a file from an edited header, re-padding it and fixing N.</summary>
    private static byte[] Join(string header, byte[] data) => Raw.File(header.TrimEnd(' '), data);

    private static byte[] Mutate(byte[] file, int kind, Random rng)
    {
        var (header, data) = Split(file);
        var n = file.Length - data.Length - 8;
        switch (Mutations[kind])
        {
            case "byte-flip":
            {
                var m = (byte[])file.Clone();
                for (var k = rng.Next(1, 4); k > 0; k--)
                {
                    // Mostly inside the header, sometimes anywhere (prefix and data included).
                    var at = rng.Next(4) == 0 ? rng.Next(m.Length) : 8 + rng.Next(n);
                    m[at] ^= (byte)rng.Next(1, 256);
                }
                return m;
            }
            case "truncate":
                return file[..rng.Next(file.Length)];
            case "number-edit":
            {
                var ms = Digits().Matches(header);
                var pick = ms[rng.Next(ms.Count)];
                var v = long.Parse(pick.Value);
                string[] options = [$"{v + 1}", $"{Math.Max(0, v - 1)}", "0", $"{v * 2}", $"{v + 8}", "18446744073709551616", $"-{v}", $"{v}.0", "1e3", $"{rng.Next(100)}", "9223372036854775807"];
                return Join(header[..pick.Index] + options[rng.Next(options.Length)] + header[(pick.Index + pick.Length)..], data);
            }
            case "dtype-swap":
            {
                var ms = Regex.Matches(header, "\"dtype\":\"([A-Z0-9_]+)\"");
                var g = ms[rng.Next(ms.Count)].Groups[1];
                return Join(header[..g.Index] + DTypeCodes[rng.Next(DTypeCodes.Length)] + header[(g.Index + g.Length)..], data);
            }
            case "structure":
            {
                var body = header.TrimEnd(' ');
                const string structural = "{}[]:,\"";
                switch (rng.Next(4))
                {
                    case 0: // delete one structural character
                        var positions = Enumerable.Range(0, body.Length).Where(i => structural.Contains(body[i])).ToArray();
                        var p = positions[rng.Next(positions.Length)];
                        return Join(body.Remove(p, 1), data);
                    case 1: // insert one
                        return Join(body.Insert(rng.Next(body.Length + 1), structural[rng.Next(structural.Length)].ToString()), data);
                    case 2: // duplicate an entry (duplicate key, overlapping offsets)
                        var entries = Regex.Matches(body, "\"[^\"]+\":\\{\"dtype\"[^}]*\\}");
                        var e = entries[rng.Next(entries.Count)];
                        return Join(body.Insert(body.Length - 1, "," + e.Value), data);
                    default: // cut the header text short or wrap it
                        return rng.Next(2) == 0 ? Join(body[..rng.Next(1, body.Length)], data) : Join("[" + body + "]", data);
                }
            }
            case "length-prefix":
            {
                var m = (byte[])file.Clone();
                ulong[] options = [(ulong)(n + rng.Next(1, 17)), (ulong)Math.Max(0, n - rng.Next(1, 17)), 0, (ulong)file.Length, (ulong)(file.Length - 8), 100_000_001, ulong.MaxValue, (ulong)rng.NextInt64()];
                BinaryPrimitives.WriteUInt64LittleEndian(m, options[rng.Next(options.Length)]);
                return m;
            }
            case "key-edit":
            {
                var ms = Keys().Matches(header);
                var pick = ms[rng.Next(ms.Count)];
                string[] options = ["\"dtype\":", "\"shape\":", "\"data_offsets\":", "\"__metadata__\":", "\"Shape\":", "\"extra\":", "\"index\":", "\"\":", ms[rng.Next(ms.Count)].Value];
                return Join(header[..pick.Index] + options[rng.Next(options.Length)] + header[(pick.Index + pick.Length)..], data);
            }
            default: // data-edit: bytes added or removed at the end, or spliced into the header with N fixed
                return rng.Next(3) switch
                {
                    0 => [.. file, .. new byte[rng.Next(1, 9)]],
                    1 => file[..^rng.Next(1, Math.Min(9, data.Length + 1))],
                    _ => Join(header.Insert(rng.Next(header.TrimEnd(' ').Length), ((char)rng.Next(32, 127)).ToString()), data),
                };
        }
    }

    /// <summary>A successful load must agree with the header and with the raw bytes of the file.</summary>
    private static void CheckConsistent(byte[] file, Dictionary<string, Tensor> tensors, SafeTensorsHeader h, string name)
    {
        Assert.True(h.DataStart + h.DataLength == file.Length, $"{name}: header says {h.DataStart}+{h.DataLength} bytes, file has {file.Length}");
        Assert.Equal(h.Entries.Select(e => e.Name), tensors.Keys);
        long at = 0;
        foreach (var e in h.Entries)
        {
            Assert.True(e.Begin == at, $"{name}: '{e.Name}' starts at {e.Begin}, expected {at}");
            at = e.End;
            var t = tensors[e.Name];
            Assert.Equal(e.DType, t.DType);
            Assert.Equal(e.Shape, t.Shape);
            Assert.Equal(e.ByteLength, t.Numel * t.DType.ElementSize());
            var raw = file.AsSpan((int)(h.DataStart + e.Begin), (int)e.ByteLength);
            Assert.True(raw.SequenceEqual(t.ToBytes()), $"{name}: '{e.Name}' bytes differ from the file");
        }
        Assert.Equal(h.DataLength, at);
        // What loaded saves and reloads to the same tensors.
        var again = SafeTensors.Load(SafeTensors.Serialize(tensors, h.HasMetadata ? h.Metadata : null), out var h2);
        Assert.Equal(h.Metadata.OrderBy(x => x.Key, StringComparer.Ordinal), h2.Metadata.OrderBy(x => x.Key, StringComparer.Ordinal));
        foreach (var (k, t) in tensors) Assert.True(t.ToBytes().AsSpan().SequenceEqual(again[k].ToBytes()), $"{name}: '{k}' changed on re-save");
    }

    [Fact]
    public void MutatedHeadersLoadConsistentlyOrFailWithSafeTensorsException()
    {
        var baseFile = BaseFile();
        var rejected = new int[Mutations.Length];
        var accepted = new int[Mutations.Length];
        var problems = new List<string>();
        for (var i = 0; i < Cases; i++)
        {
            var kind = i % Mutations.Length;
            var name = $"fuzz-{i:D4}-{Mutations[kind]}.safetensors";
            var file = Mutate(baseFile, kind, new Random(10_000 + i));
            using var scope = Scope.Enter();
            bool? ok = null;
            try
            {
                var tensors = SafeTensors.Load(file, out var header, name);
                CheckConsistent(file, tensors, header, name);
                ok = true;
            }
            catch (SafeTensorsException e)
            {
                if (!e.Message.Contains(name) || e.FilePath != name) problems.Add($"{name}: message does not name the file: {e.Message}");
                ok = false;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                problems.Add($"{name}: {e.GetType().Name}: {e.Message}");
            }
            if (ok is not { } loaded) continue;
            (loaded ? accepted : rejected)[kind]++;

            // The header-only reader and a stream of unknown length give the same verdict.
            var headerOk = Verdict(() => SafeTensors.ReadHeader(file, name));
            var pipeOk = Verdict(() => SafeTensors.Load(new NonSeekableStream(file), out _, name));
            if (headerOk is null || pipeOk is null) problems.Add($"{name}: an exception other than SafeTensorsException escaped");
            else if (headerOk != loaded || pipeOk != loaded) problems.Add($"{name}: verdicts differ (load {loaded}, header {headerOk}, stream {pipeOk})");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
        var total = rejected.Sum();
        Assert.True(total >= Cases / 2, $"only {total} of {Cases} mutants were rejected");
        Assert.True(accepted.Sum() >= Cases / 50, $"only {accepted.Sum()} mutants loaded: the consistency check barely ran");
        for (var k = 0; k < Mutations.Length; k++)
            Assert.True(rejected[k] >= Cases / Mutations.Length / 4, $"{Mutations[k]}: only {rejected[k]} rejected, {accepted[k]} accepted");
    }

    private static bool? Verdict(Action a)
    {
        try
        {
            using var s = Scope.Enter();
            a();
            return true;
        }
        catch (SafeTensorsException)
        {
            return false;
        }
        catch (Exception)
        {
            return null;
        }
    }
}
