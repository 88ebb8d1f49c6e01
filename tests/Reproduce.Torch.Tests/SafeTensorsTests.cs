using System.Buffers.Binary;
using System.Text;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)]
public class SafeTensorsTests
{
    private static readonly ScalarType[] AllTypes =
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.UInt8, ScalarType.Bool,
    ];

    /// <summary>Random raw bytes for a tensor (so floats include NaNs with payloads, infinities, subnormals).</summary>
    private static Tensor RandomTensor(Random rng, ScalarType dtype, long[] shape)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize();
        var bytes = new byte[n];
        rng.NextBytes(bytes);
        if (dtype == ScalarType.Bool) for (var i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return Tensor.FromBytes(bytes, dtype, shape);
    }

    private static void AssertSameTensor(Tensor expected, Tensor actual, string key)
    {
        Assert.True(expected.DType == actual.DType, $"{key}: dtype {actual.DType} != {expected.DType}");
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{key}: shape {actual.Describe()} != {expected.Describe()}");
        Assert.True(expected.ToBytes().AsSpan().SequenceEqual(actual.ToBytes()), $"{key}: bytes differ");
    }

    [Fact]
    public void RoundTripIsBitExactForEveryDtypeAndShapeKind()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var rng = new Random(1234);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var dt in AllTypes)
        {
            tensors[$"{dt}.matrix"] = RandomTensor(rng, dt, [3, 5]);
            tensors[$"{dt}.scalar"] = RandomTensor(rng, dt, []);
            tensors[$"{dt}.empty"] = RandomTensor(rng, dt, [0]);
            tensors[$"{dt}.empty3d"] = RandomTensor(rng, dt, [2, 0, 3]);
            tensors[$"{dt}.4d"] = RandomTensor(rng, dt, [2, 1, 3, 2]);
        }
        // NaN payloads must survive untouched (quiet, signalling, negative), as must -0 and subnormals.
        tensors["nan.f32"] = Tensor.From(new[] { 0x7FC00000u, 0x7F800001u, 0xFFC12345u, 0x80000000u, 0x00000001u }.Select(BitConverter.UInt32BitsToSingle).ToArray());
        tensors["nan.f64"] = Tensor.From(new[] { 0x7FF0000000000001ul, 0xFFF8000000000ABCul }.Select(BitConverter.UInt64BitsToDouble).ToArray());
        tensors["nan.f16"] = Tensor.FromBytes([0x01, 0x7C, 0xFF, 0xFE, 0x00, 0x80], ScalarType.Float16, [3]);
        tensors["nan.bf16"] = Tensor.FromBytes([0x81, 0x7F, 0xC1, 0xFF, 0x01, 0x00], ScalarType.BFloat16, [3]);
        var path = dir.File("all.safetensors");
        SafeTensors.Save(path, tensors);

        var loaded = SafeTensors.Load(path, out var header);
        Assert.Equal(tensors.Count, loaded.Count);
        Assert.False(header.HasMetadata);
        foreach (var (k, t) in tensors) AssertSameTensor(t, loaded[k], k);
        Assert.Equal(new FileInfo(path).Length, header.DataStart + header.DataLength);
        Assert.Equal(0, header.DataStart % 8);
    }

    [Fact]
    public void NonContiguousAndGradTensorsAreStoredRowMajor()
    {
        using var scope = Scope.Enter();
        var m = Torch.Arange(0, 12, 1, ScalarType.Float32).Reshape(3, 4);
        var tensors = new Dictionary<string, Tensor>
        {
            ["t"] = m.T(),
            ["slice"] = m.Slice(1, 1, 3),
            ["grad"] = Torch.Ones([2]).RequiresGrad_(),
        };
        Assert.False(tensors["t"].IsContiguous);
        var loaded = SafeTensors.Load(SafeTensors.Serialize(tensors), out _);
        AssertSameTensor(tensors["t"].Contiguous(), loaded["t"], "t");
        Assert.Equal(new float[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }, loaded["t"].ToArray<float>());
        Assert.Equal(new float[] { 1, 2, 5, 6, 9, 10 }, loaded["slice"].ToArray<float>());
        Assert.Equal(new float[] { 1, 1 }, loaded["grad"].ToArray<float>());
    }

    [Fact]
    public void MetadataRoundTripsIncludingEscapesAndUnicode()
    {
        using var scope = Scope.Enter();
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["quote\"back\\slash"] = "tab\tnewline\nctrl\u0001del\u007f",
            ["ключ"] = "значение ✓ 😀",
            ["empty"] = "",
        };
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["x"] = Torch.Ones([2]) }, meta);
        var header = SafeTensors.ReadHeader(bytes, "meta");
        Assert.True(header.HasMetadata);
        Assert.Equal(meta.OrderBy(x => x.Key, StringComparer.Ordinal), header.Metadata.OrderBy(x => x.Key, StringComparer.Ordinal));
        var text = Raw.Header(bytes);
        // serde_json escaping: only '"', '\\' and control characters; UTF-8 kept raw.
        Assert.Contains("\"quote\\\"back\\\\slash\":\"tab\\tnewline\\nctrl\\u0001del\u007f\"", text);
        Assert.Contains("\"ключ\":\"значение ✓ 😀\"", text);
        Assert.StartsWith("{\"__metadata__\":{\"empty\":\"\",\"format\":\"pt\",\"quote", text);
    }

    [Fact]
    public void HeaderLayoutMatchesTheOfficialWriterByteForByte()
    {
        using var scope = Scope.Enter();
        var data = Tensor.From(new float[] { 0, 1, 2, 3, 4, 5 });

        // Header of exactly 64 bytes: no padding needed.
        var a = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["attn.0"] = data.Reshape(1, 2, 3) });
        const string ha = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        Assert.Equal(64, ha.Length);
        Assert.Equal(Raw.File(ha, data.ToBytes()), a);

        // 65 bytes: padded with 7 spaces to 72 so the data starts 8-aligned.
        var b = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["attn0"] = data.Reshape(1, 1, 2, 3) });
        Assert.Equal(72UL, BinaryPrimitives.ReadUInt64LittleEndian(b));
        Assert.Equal("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", Raw.Header(b));
        Assert.Equal(data.ToBytes(), b[80..]);

        // No tensors: "{}" and six spaces; metadata only: 35 bytes and five spaces.
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}', 32, 32, 32, 32, 32, 32 }, SafeTensors.Serialize(new Dictionary<string, Tensor>()));
        var m = SafeTensors.Serialize(new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal(Raw.File("{\"__metadata__\":{\"framework\":\"pt\"}}"), m);
        Assert.Equal(48, m.Length);
    }

    [Fact]
    public void PaddingIsSpacesToAMultipleOfEightForEveryHeaderLength()
    {
        using var scope = Scope.Enter();
        var one = Torch.Ones([1], ScalarType.UInt8);
        for (var len = 1; len <= 8; len++)
        {
            var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor> { [new string('k', len)] = one });
            var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0, (8 + n) % 8);
            var header = bytes.AsSpan(8, n);
            var close = header.LastIndexOf((byte)'}');
            Assert.True(n - 1 - close < 8, $"{n - 1 - close} padding bytes");
            Assert.True(header[(close + 1)..].IndexOfAnyExcept((byte)' ') < 0, "padding must be 0x20 only");
            Assert.Equal(8 + n + 1, bytes.Length);
            Assert.Equal(1, bytes[^1]);
        }
    }

    [Fact]
    public void TensorsAreOrderedByOfficialDtypeOrderThenUtf8Name()
    {
        using var scope = Scope.Enter();
        var t = new Dictionary<string, Tensor>();
        string[] names = ["b", "a", "\uFF21", "\U0001F600", "B"];
        foreach (var n in names) t["f32." + n] = Torch.Ones([1]);
        foreach (var dt in AllTypes) t[dt.ToString()] = Torch.Ones([2], dt);
        var header = SafeTensors.ReadHeader(SafeTensors.Serialize(t));
        var order = header.Entries.Select(e => e.Name).ToArray();
        string[] expected =
        [
            "Int64", "Float64",
            // F32 ties by UTF-8 bytes: "B" < "a" < "b" < U+FF21 (EF BC A1) < U+1F600 (F0 ...), unlike UTF-16 order.
            "Float32", "f32.B", "f32.a", "f32.b", "f32.\uFF21", "f32.\U0001F600",
            "Int32", "BFloat16", "Float16", "Int16", "Int8", "UInt8", "Bool",
        ];
        Assert.Equal(expected, order);
        // The JSON lists them in the same order, and offsets are packed in it.
        var text = Raw.Header(SafeTensors.Serialize(t));
        var positions = expected.Select(n => text.IndexOf("\"" + n + "\":", StringComparison.Ordinal)).ToArray();
        Assert.Equal(positions.Order(), positions);
        long at = 0;
        foreach (var e in header.Entries)
        {
            Assert.Equal(at, e.Begin);
            at = e.End;
        }
    }

    [Fact]
    public void SavingTwiceGivesIdenticalBytesWhateverTheDictionaryOrder()
    {
        using var scope = Scope.Enter();
        var rng = new Random(7);
        var a = new Dictionary<string, Tensor>();
        foreach (var dt in AllTypes) a["w." + dt] = RandomTensor(rng, dt, [2, 3]);
        var b = a.Reverse().ToDictionary(x => x.Key, x => x.Value);
        var meta1 = new Dictionary<string, string> { ["x"] = "1", ["a"] = "2" };
        var meta2 = new Dictionary<string, string> { ["a"] = "2", ["x"] = "1" };
        Assert.Equal(SafeTensors.Serialize(a, meta1), SafeTensors.Serialize(b, meta2));
    }

    [Fact]
    public void StreamsSeekableOrNotAndHeaderOnlyReads()
    {
        using var scope = Scope.Enter();
        var tensors = new Dictionary<string, Tensor> { ["a"] = Torch.Arange(0, 10, 1, ScalarType.Float64), ["b"] = Torch.Ones([3, 3], ScalarType.Int16) };
        var bytes = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["k"] = "v" });

        var fromPipe = SafeTensors.Load(new NonSeekableStream(bytes), out var header, "pipe");
        Assert.Equal("v", header.Metadata["k"]);
        AssertSameTensor(tensors["a"], fromPipe["a"], "a");
        AssertSameTensor(tensors["b"], fromPipe["b"], "b");

        var h = SafeTensors.ReadHeader(new MemoryStream(bytes), "mem");
        Assert.Equal(ScalarType.Float64, h["a"].DType);
        Assert.Equal("I16", h["b"].DTypeCode);
        Assert.Equal(new long[] { 3, 3 }, h["b"].Shape);
        Assert.Equal((80L, 98L), (h["b"].Begin, h["b"].End));
        Assert.Equal(98, h.DataLength);
        Assert.False(h.TryGetEntry("zzz", out _));
        Assert.Contains("'mem'", Assert.Throws<KeyNotFoundException>(() => h["zzz"]).Message);

        // A pipe that ends inside the data, or carries bytes after it, is rejected.
        var cut = Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(new NonSeekableStream(bytes[..^5]), out _, "pipe-cut"));
        Assert.Contains("'pipe-cut'", cut.Message);
        Assert.Contains("key 'b'", cut.Message);
        Assert.Contains("[80, 98]", cut.Message);
        var extra = Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(new NonSeekableStream([.. bytes, 0]), out _, "pipe-extra"));
        Assert.Contains("more bytes", extra.Message);
    }

    [Fact]
    public void FailedLoadsFreeEverythingTheyAllocated()
    {
        byte[] bytes;
        using (Scope.Enter())
            bytes = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["a"] = Torch.Ones([4]), ["b"] = Torch.Ones([4]), ["c"] = Torch.Ones([4]) });
        var live = Tensor.LiveCount;
        var nativeLive = Tensor.NativeLiveCount;
        for (var i = 0; i < 5; i++)
            Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(new NonSeekableStream(bytes[..^3]), out _));
        Assert.Equal(live, Tensor.LiveCount);
        Assert.Equal(nativeLive, Tensor.NativeLiveCount);
    }

    [Fact]
    public void SaveRejectsReservedKeysAndBadStrings()
    {
        using var scope = Scope.Enter();
        var one = Torch.Ones([1]);
        var reserved = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["__metadata__"] = one }));
        Assert.Contains("__metadata__", reserved.Message);
        var surrogate = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["bad\uD800"] = one }));
        Assert.Contains("surrogate", surrogate.Message);
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["k"] = null! }));
    }

    [Fact]
    public void AtomicSaveKeepsTheOldFileWhenTheInputIsBad()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Torch.Full([3], 7) });
        var good = File.ReadAllBytes(path);

        var disposed = Torch.Ones([2]);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = Torch.Zeros([2]), ["b"] = disposed }));
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void AtomicSaveKeepsTheOldFileWhenWritingFailsHalfway()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Torch.Full([3], 7) });
        var good = File.ReadAllBytes(path);

        var sawTemp = false;
        SafeTensors.BeforeTensorData = key =>
        {
            // By now the header and the first tensor are in the temporary file beside the target.
            if (key != "second") return;
            sawTemp = Directory.GetFiles(dir.Path, ".model.safetensors.*.tmp").Length == 1;
            throw new IOException("injected failure");
        };
        try
        {
            var big = new Dictionary<string, Tensor> { ["first"] = Torch.Ones([1000], ScalarType.Float64), ["second"] = Torch.Ones([10]) };
            Assert.Equal("injected failure", Assert.Throws<IOException>(() => SafeTensors.Save(path, big)).Message);
        }
        finally
        {
            SafeTensors.BeforeTensorData = null;
        }
        Assert.True(sawTemp, "the write should have been going to a temporary file");
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));

        // A successful save replaces the old file.
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Torch.Full([3], 8) });
        Assert.Equal(new float[] { 8, 8, 8 }, SafeTensors.Load(path)["w"].ToArray<float>());
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    private sealed class TinyNet : Module<Tensor, Tensor>
    {
        public TinyNet(long hidden)
        {
            Fc1 = Register("fc1", new Linear(4, hidden));
            Fc2 = Register("fc2", new Linear(hidden, 2));
            using var s = Scope.Enter();
            RegisterBuffer("steps", Torch.Zeros([1], ScalarType.Int64));
        }

        public Linear Fc1 { get; }
        public Linear Fc2 { get; }

        public override Tensor Forward(Tensor input) => Fc2.Forward(Fc1.Forward(input).Relu());
    }

    [Fact]
    public void ModuleStateDictRoundTrip()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File("net.safetensors");
        using var a = new TinyNet(8);
        using var b = new TinyNet(8);
        SafeTensors.SaveModule(path, a, new Dictionary<string, string> { ["arch"] = "tiny" });
        Assert.Equal("tiny", SafeTensors.ReadHeader(path).Metadata["arch"]);
        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight", "steps"], SafeTensors.ReadHeader(path).Entries.Select(e => e.Name).Order(StringComparer.Ordinal));

        var result = SafeTensors.LoadInto(b, path);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var x = Torch.Randn([3, 4]);
        Assert.Equal(a.Forward(x).ToArray<float>(), b.Forward(x).ToArray<float>());

        using var wrongShape = new TinyNet(5);
        var e = Assert.Throws<TorchException>(() => SafeTensors.LoadInto(wrongShape, path));
        Assert.Contains("net.safetensors", e.Message);
        Assert.Contains("fc1.weight", e.Message);
    }

    [Fact]
    public void LoadIntoStrictReportsMissingKeys()
    {
        using var scope = Scope.Enter();
        using var dir = new TempDir();
        var path = dir.File("partial.safetensors");
        using var net = new TinyNet(3);
        var state = net.StateDict();
        state.Remove("fc2.bias");
        SafeTensors.Save(path, state);
        Assert.Contains("fc2.bias", Assert.Throws<TorchException>(() => SafeTensors.LoadInto(net, path)).Message);
        var relaxed = SafeTensors.LoadInto(net, path, strict: false);
        Assert.Equal(["fc2.bias"], relaxed.MissingKeys);
    }
}
