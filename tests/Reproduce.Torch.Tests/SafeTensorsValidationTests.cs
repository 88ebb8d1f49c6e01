using System.Text;
using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)]
public class SafeTensorsValidationTests
{
    private static byte[] Z(int n) => new byte[n];

    private const string W4 = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}";

    private static string One(string dtype, string shape, string offsets) => "{" + Entry("w", dtype, shape, offsets) + "}";

    /// <summary>(case, file bytes, key the error must name or null, substrings the message must contain).</summary>
    public static TheoryData<string, byte[], string?, string[]> BadFiles() => new()
    {
        // length prefix
        { "empty-file", [], null, ["0 bytes", "at least 8"] },
        { "short", [1, 2, 3, 4, 5], null, ["5 bytes", "at least 8"] },
        { "n-past-end", Raw.WithPrefix(1000, "{}"u8.ToArray(), []), null, ["N = 1000", "2 bytes that follow", "file is 10 bytes"] },
        { "n-absurd", Raw.WithPrefix(200_000_000, "{}"u8.ToArray(), []), null, ["N = 200000000", "100000000-byte limit"] },
        { "n-max", Raw.WithPrefix(ulong.MaxValue, "{}"u8.ToArray(), []), null, ["N = 18446744073709551615"] },
        { "n-zero", Raw.WithPrefix(0, [], []), null, ["empty (N = 0)"] },
        // header text
        { "not-brace", Raw.File("[1,2]"), null, ["start with '{'", "0x5B"] },
        { "leading-space", Raw.File(" {}"), null, ["start with '{'", "0x20"] },
        { "bad-json", Raw.File("{\"w\":{\"dtype\":\"F32\","), null, ["not valid JSON"] },
        { "trailing-garbage", Raw.File("{} x"), null, ["not valid JSON"] },
        { "second-object", Raw.File("{}{}"), null, ["not valid JSON"] },
        { "comment", Raw.File("{/*c*/}"), null, ["not valid JSON"] },
        { "trailing-comma", Raw.File("{\"__metadata__\":{},}"), null, ["not valid JSON"] },
        { "bad-utf8", Raw.WithPrefix(8, [(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}', 32], []), null, ["not valid UTF-8"] },
        { "lone-surrogate", Raw.File("{\"\\ud800\":{}}"), null, ["not valid Unicode"] },
        // entries
        { "entry-not-object", Raw.File("{\"w\":[0,4]}", Z(4)), "w", ["is a list, not an object"] },
        { "missing-offsets", Raw.File("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", Z(4)), "w", ["lacks data_offsets"] },
        { "missing-all", Raw.File("{\"w\":{}}"), "w", ["lacks dtype and shape and data_offsets"] },
        { "extra-key", Raw.File("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", Z(4)), "w", ["unexpected key 'extra'"] },
        { "repeated-field", Raw.File("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", Z(4)), "w", ["'dtype' more than once"] },
        { "unknown-dtype", Raw.File(One("\"Q4\"", "[1]", "[0,4]"), Z(4)), "w", ["dtype 'Q4'", "F64, F32"] },
        { "lowercase-dtype", Raw.File(One("\"f32\"", "[1]", "[0,4]"), Z(4)), "w", ["dtype 'f32'"] },
        { "unsupported-dtype", Raw.File(One("\"U16\"", "[2]", "[0,4]"), Z(4)), "w", ["unsupported dtype 'U16'"] },
        { "dtype-number", Raw.File(One("6", "[1]", "[0,4]"), Z(4)), "w", ["dtype is a number"] },
        { "shape-number", Raw.File(One("\"F32\"", "4", "[0,4]"), Z(4)), "w", ["shape is a number, not a list"] },
        { "shape-null", Raw.File(One("\"F32\"", "null", "[0,4]"), Z(4)), "w", ["shape is null"] },
        { "shape-negative", Raw.File(One("\"F32\"", "[-1]", "[0,4]"), Z(4)), "w", ["shape item 0 is negative (-1)"] },
        { "shape-fraction", Raw.File(One("\"F32\"", "[2,1.5]", "[0,4]"), Z(4)), "w", ["shape item 1 is not an integer (1.5)"] },
        { "shape-exponent", Raw.File(One("\"F32\"", "[1e0]", "[0,4]"), Z(4)), "w", ["not an integer (1e0)"] },
        { "shape-string", Raw.File(One("\"F32\"", "[\"1\"]", "[0,4]"), Z(4)), "w", ["shape item 0 is a string"] },
        { "shape-bool", Raw.File(One("\"F32\"", "[true]", "[0,4]"), Z(4)), "w", ["shape item 0 is a boolean"] },
        { "shape-nested", Raw.File(One("\"F32\"", "[[1]]", "[0,4]"), Z(4)), "w", ["shape item 0 is a list"] },
        { "shape-huge", Raw.File(One("\"F32\"", "[99999999999999999999]", "[0,4]"), Z(4)), "w", ["too large (99999999999999999999)"] },
        { "shape-overflow", Raw.File(One("\"F32\"", "[4294967296,4294967296,16]", "[0,0]")), "w", ["[4294967296,4294967296,16]", "overflows"] },
        { "offsets-one", Raw.File(One("\"F32\"", "[1]", "[4]"), Z(4)), "w", ["two integers", "has 1: [4]"] },
        { "offsets-three", Raw.File(One("\"F32\"", "[1]", "[0,4,8]"), Z(4)), "w", ["has 3: [0,4,8]"] },
        { "offsets-reversed", Raw.File(One("\"F32\"", "[0]", "[4,0]"), Z(4)), "w", ["[4, 0]", "begin is after end"] },
        { "offsets-negative", Raw.File(One("\"F32\"", "[1]", "[-4,0]"), Z(4)), "w", ["data_offsets item 0 is negative (-4)"] },
        { "offsets-string", Raw.File(One("\"F32\"", "[1]", "\"0,4\""), Z(4)), "w", ["data_offsets is a string"] },
        { "offsets-fraction", Raw.File(One("\"F32\"", "[1]", "[0,4.0]"), Z(4)), "w", ["data_offsets item 1 is not an integer (4.0)"] },
        { "length-mismatch", Raw.File(One("\"F32\"", "[2]", "[0,4]"), Z(4)), "w", ["[0, 4]", "span 4 bytes", "needs 8"] },
        { "dtype-size-mismatch", Raw.File(One("\"F64\"", "[1]", "[0,4]"), Z(4)), "w", ["F64", "needs 8"] },
        { "duplicate-tensor", Raw.File("{" + Entry("w", "\"F32\"", "[1]", "[0,4]") + "," + Entry("w", "\"F32\"", "[1]", "[4,8]") + "}", Z(8)), "w", ["more than once"] },
        // layout of the data area
        { "overlap", Raw.File("{" + Entry("a", "\"F32\"", "[2]", "[0,8]") + "," + Entry("b", "\"F32\"", "[2]", "[4,12]") + "}", Z(12)), "b", ["[4, 12]", "overlap tensor 'a' at [0, 8]"] },
        { "same-range", Raw.File("{" + Entry("a", "\"F32\"", "[1]", "[0,4]") + "," + Entry("b", "\"I32\"", "[1]", "[0,4]") + "}", Z(8)), "b", ["overlap tensor 'a'"] },
        { "hole", Raw.File("{" + Entry("a", "\"F32\"", "[1]", "[0,4]") + "," + Entry("b", "\"F32\"", "[1]", "[8,12]") + "}", Z(12)), "b", ["[8, 12]", "hole", "[4, 8)"] },
        { "hole-at-start", Raw.File(One("\"F32\"", "[1]", "[4,8]"), Z(8)), "w", ["[4, 8]", "hole", "[0, 4)"] },
        { "empty-inside-other", Raw.File("{" + Entry("a", "\"F32\"", "[2]", "[0,8]") + "," + Entry("e", "\"F32\"", "[0]", "[4,4]") + "}", Z(8)), "e", ["[4, 4]", "overlap tensor 'a'"] },
        { "trailing-bytes", Raw.File(W4, Z(8)), "w", ["[0, 4)", "data area is 8 bytes", "4 trailing bytes"] },
        { "data-without-tensors", Raw.File("{}", Z(3)), null, ["[0, 0)", "3 trailing bytes"] },
        { "past-end", Raw.File(One("\"F32\"", "[2]", "[0,8]"), Z(4)), "w", ["[0, 8]", "past the end", "4 bytes"] },
        { "truncated-data", Raw.File(W4, Z(2)), "w", ["[0, 4]", "past the end", "2 bytes"] },
        // metadata
        { "metadata-number", Raw.File("{\"__metadata__\":{\"a\":1}}"), "__metadata__", ["value of 'a' is a number", "must be strings"] },
        { "metadata-null", Raw.File("{\"__metadata__\":{\"a\":null}}"), "__metadata__", ["value of 'a' is null"] },
        { "metadata-nested", Raw.File("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}"), "__metadata__", ["value of 'a' is an object"] },
        { "metadata-list", Raw.File("{\"__metadata__\":[\"a\"]}"), "__metadata__", ["must be an object", "a list"] },
        { "metadata-repeated-key", Raw.File("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}"), "__metadata__", ["'a' appears more than once"] },
        { "metadata-twice", Raw.File("{\"__metadata__\":{},\"__metadata__\":{}}"), "__metadata__", ["more than once"] },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFileIsRejectedWithFileKeyAndDetails(string name, byte[] bytes, string? key, string[] expected)
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File($"bad-{name}.safetensors");
        File.WriteAllBytes(path, bytes);
        var fromHeader = Assert.Throws<SafeTensorsException>(() => SafeTensors.ReadHeader(path));
        var fromLoad = Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(path));
        foreach (var e in new[] { fromHeader, fromLoad })
        {
            Assert.Equal(path, e.FilePath);
            Assert.Equal(key, e.Key);
            Assert.Contains($"bad-{name}.safetensors", e.Message);
            if (key is not null) Assert.Contains($"key '{key}'", e.Message);
            foreach (var s in expected) Assert.Contains(s, e.Message);
        }
        Assert.Equal(fromHeader.Message, fromLoad.Message);
        // The same verdict from memory and from a stream that hides its length.
        Assert.Equal(key, Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(bytes, out _, "mem")).Key);
        Assert.Contains("'pipe'", Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(new NonSeekableStream(bytes), out _, "pipe")).Message);
    }

    [Fact]
    public void ReaderAcceptsWhatTheSpecAllows()
    {
        using var scope = Scope.Enter();
        // Entries in any JSON order, JSON whitespace, metadata last, no padding (8 + N not a multiple
        // of 8), escaped names, zero-length tensors sharing an offset, and an empty metadata object.
        var header = "{ \"b\\u00e9\" : {\"shape\": [2], \"data_offsets\": [4, 8], \"dtype\": \"I16\"},\n"
                     + " \"e1\": {\"dtype\": \"F64\", \"shape\": [0, 5], \"data_offsets\": [8, 8]},"
                     + " \"e0\": {\"dtype\": \"BOOL\", \"shape\": [3, 0], \"data_offsets\": [8, 8]},"
                     + " \"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]},"
                     + " \"__metadata__\": {} }";
        byte[] data = [0, 0, 0xC0, 0x3F, 1, 0, 0xFF, 0xFF];
        var bytes = Raw.WithPrefix((ulong)Encoding.UTF8.GetByteCount(header), Encoding.UTF8.GetBytes(header), data);
        var t = SafeTensors.Load(bytes, out var h, "variations");
        Assert.Equal(["a", "bé", "e1", "e0"], t.Keys);
        Assert.True(h.HasMetadata);
        Assert.Empty(h.Metadata);
        Assert.Equal(1.5, t["a"].ToDouble());
        Assert.Empty(t["a"].Shape);
        Assert.Equal(new short[] { 1, -1 }, t["bé"].ToArray<short>());
        Assert.Equal(new long[] { 0, 5 }, t["e1"].Shape);
        Assert.Equal(ScalarType.Bool, t["e0"].DType);
    }

    [Fact]
    public void LoadRefusesMoreDimensionsThanTheBindingHandles()
    {
        using var scope = Scope.Enter();
        var shape = "[" + string.Join(",", Enumerable.Repeat(1, 17)) + "]";
        var bytes = Raw.File(One("\"F32\"", shape, "[0,4]"), Z(4));
        Assert.Equal(17, SafeTensors.ReadHeader(bytes, "deep").Entries[0].Shape.Count);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(bytes, out _, "deep"));
        Assert.Equal("w", e.Key);
        Assert.Contains("17 dimensions", e.Message);
    }
}
