using System.Text.RegularExpressions;
using Reproduce.Training.Config;
using Reproduce.Training.Train;

namespace Reproduce.Training.Tests.Config;

/// <summary>The <c>ssl</c> section: absent from the canonical form while off, bound and validated key by key.</summary>
public class SslConfigTests
{
    private static string Root()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Reproduce.sln"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void CommittedRunsKeepTheHashTheirDirectoryIsNamedBy()
    {
        // run directories are <name>-<first 8 or 12 hex digits of the config hash>; the ssl key must not enter them
        var checkedRuns = 0;
        foreach (var f in Directory.GetFiles(Path.Combine(Root(), "results"), "config.json", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(f);
            if (text.Contains("\"command\"", StringComparison.Ordinal)) continue; // token-label stores
            var dir = Path.GetFileName(Path.GetDirectoryName(f)!);
            var m = Regex.Match(dir, "-([0-9a-f]{8}|[0-9a-f]{12})$");
            if (!m.Success) continue;
            var c = RunConfig.FromJson(text, f);
            Assert.DoesNotContain("\"ssl\"", c.ToCanonicalJson());
            Assert.StartsWith(m.Groups[1].Value, c.Hash());
            checkedRuns++;
        }
        Assert.True(checkedRuns > 10, $"only {checkedRuns} committed runs named by their hash");
    }

    [Fact]
    public void TheSectionIsOmittedAtItsDefaultsAndWrittenWhenSet()
    {
        var plain = RunConfig.Load((string?)null);
        Assert.DoesNotContain("\"ssl\"", plain.ToCanonicalJson());
        // a default written explicitly is the same configuration
        Assert.Equal(plain.Hash(), RunConfig.Load(null, "ssl.method=none", "ssl.knn_k=20").Hash());
        var dino = RunConfig.Load(null, "ssl.method=dinov2", "ssl.centering=sinkhorn_knopp", "ssl.local_crop_scale=0.1,0.4");
        Assert.Equal(SslMethod.DinoV2, dino.Ssl.Method);
        Assert.Equal(SslCentering.SinkhornKnopp, dino.Ssl.Centering);
        Assert.Equal([0.1, 0.4], dino.Ssl.LocalCropScale);
        Assert.Contains("\"ssl\":{", dino.ToCanonicalJson());
        Assert.NotEqual(plain.Hash(), dino.Hash());
        // the saved form round-trips
        Assert.Equal(dino.Hash(), RunConfig.FromJson(ConfigJson.Indented(dino)).Hash());
    }

    [Theory]
    [InlineData("ssl.method=dino", "ssl.method")]
    [InlineData("ssl.centering=sinkhorn", "ssl.centering")]
    [InlineData("ssl.mask_ratio=0.5,0.1", "ssl.mask_ratio")]
    [InlineData("ssl.global_crop_scale=0,1", "ssl.global_crop_scale")]
    [InlineData("ssl.mask_sample_probability=1.5", "ssl.mask_sample_probability")]
    [InlineData("ssl.teacher_temp=0", "ssl.teacher_temp")]
    [InlineData("ssl.head_layers=0", "ssl.head_layers")]
    [InlineData("ssl.epoch_length=0", "ssl.epoch_length")]
    [InlineData("ssl.knn_k=0", "ssl.knn_k")]
    [InlineData("ssl.momentum_teacher=1.2", "ssl.momentum_teacher")]
    [InlineData("ssl.base_lr=-1", "ssl.base_lr")]
    [InlineData("ssl.prototypes=5", "ssl.prototypes")]
    public void InvalidValuesNameTheirKey(string setting, string key)
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, setting).Validate(""));
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void AnUnknownKeyListsTheSectionsKeys()
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "ssl.koleo=0.1"));
        Assert.Contains("koleo_loss_weight", e.Message);
        Assert.Contains("'ssl'", e.Message);
    }

    [Theory]
    [InlineData("optim.optimizer=lamb", "optim.optimizer")]
    [InlineData("optim.schedule=poly", "optim.schedule")]
    [InlineData("optim.accumulation=2", "optim.accumulation")]
    [InlineData("optim.ema=true", "optim.ema")]
    [InlineData("data.dataset=fashion-mnist", "data.dataset")]
    [InlineData("model.name=resnet50", "model.name")]
    [InlineData("model.class_token=false", "model.class_token")]
    [InlineData("ssl.local_crop_size=64", "ssl.local_crop_size")]
    public void CombinationsTheDinoV2TrainerRefusesNameTheKey(string setting, string key)
    {
        var c = RunConfig.Load(null, "ssl.method=dinov2", "model.name=vit_tiny_patch16_224", "model.img_size=32", "data.dataset=fashion-objects", setting);
        var e = Assert.Throws<ConfigException>(() => Trainer.Check(c));
        Assert.StartsWith(key, e.Key);
    }
}
