using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Reproduce.Training.Config;

namespace Reproduce.Training.Tests.Config;

public class ConfigHashTests
{
    [Fact]
    public void HashIgnoresKeyOrderAndHowValuesWereGiven()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["a.json"], """{ "name": "x", "optim": { "lr": 0.001, "weight_decay": 0.1 }, "model": { "anf": { "kernel_size": 5, "gate": "token" } }, "seed": 4 }""");
        File.WriteAllText(dir["b.json"], """{ "seed": 4, "model": { "anf": { "gate": "token", "kernel_size": 5.0 } }, "optim": { "weight_decay": 0.1, "lr": 1e-3 }, "name": "x" }""");
        var a = RunConfig.Load(dir["a.json"]);
        var b = RunConfig.Load(dir["b.json"]);
        var c = RunConfig.Load(null, "seed=4", "model.anf.gate=token", "optim.weight_decay=0.10", "name=x", "model.anf.kernel_size= 5", "optim.lr=0.001");
        Assert.Equal(a.Hash(), b.Hash());
        Assert.Equal(a.Hash(), c.Hash());
        Assert.Equal(a.ToCanonicalJson(), c.ToCanonicalJson());
        Assert.NotEqual(a.Hash(), RunConfig.Load(dir["a.json"], "optim.lr=0.0011").Hash());
        Assert.NotEqual(a.Hash(), RunConfig.Load(dir["a.json"], "model.sta={}").Hash());
    }

    [Fact]
    public void CanonicalJsonIsSortedCompactAndRoundTrips()
    {
        var c = RunConfig.Load(null, "name=demo", "model.num_classes=10", "optim.betas=0.9,0.95", "probe.depth_crop=garg_kitti");
        var json = c.ToCanonicalJson();
        Assert.StartsWith("{\"aug\":{\"color_jitter\":0.4,\"cutmix\":1,", json);
        Assert.DoesNotContain(" ", json.Replace("\"rand-m9-mstd0.5-inc1\"", ""));
        Assert.Contains("\"betas\":[0.9,0.95]", json);
        Assert.Contains("\"depth_crop\":\"garg_kitti\"", json);
        Assert.Contains("\"model\":{\"name\":\"vit_tiny_patch16_224\",\"num_classes\":10,\"weights\":null}", json);
        Assert.Contains("\"optimizer\":\"adamw\"", json);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json))), c.Hash());

        var back = RunConfig.FromJson(ConfigJson.Indented(c));
        Assert.Equal(c.Hash(), back.Hash());
        Assert.Equal(json, back.ToCanonicalJson());
        Assert.Matches(new Regex("^demo-[0-9a-f]{12}$"), c.RunId());
        Assert.Equal("demo-" + c.Hash()[..12], c.RunId());
    }

    [Fact]
    public void HashIsStableAcrossInstancesAndProcessesOfTheSameValues()
    {
        // Same values built independently give the same bytes; floats use the shortest round-trip form.
        var x = new RunConfig { Optim = new OptimSection { Lr = 0.1 + 0.2 } };
        var y = RunConfig.Load(null, "optim.lr=0.30000000000000004");
        Assert.Equal(x.Hash(), y.Hash());
        Assert.Contains("\"lr\":0.30000000000000004", x.ToCanonicalJson());
        Assert.NotEqual(x.Hash(), RunConfig.Load(null, "optim.lr=0.3").Hash());
    }
}
