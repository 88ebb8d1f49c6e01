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
    public void CommittedRunConfigsReserialiseToTheirOwnBytesSoTheirHashesStand()
    {
        // config.json is the indented canonical form written when the run started; getting the same text back means
        // the canonical form (hence the SHA-256 that names and guards the run) is unchanged by the ssl section
        var files = Directory.GetFiles(Path.Combine(Root(), "results"), "config.json", SearchOption.AllDirectories)
            .Where(f => !File.ReadAllText(f).Contains("\"command\"", StringComparison.Ordinal)).ToList(); // token-label stores
        Assert.True(files.Count > 10, $"only {files.Count} committed run configs");
        var ssl = 0;
        foreach (var f in files)
        {
            var text = File.ReadAllText(f);
            var c = RunConfig.FromJson(text, f);
            // supervised runs (written before the section existed) must not gain it; the quick DINOv2 runs keep theirs
            if (c.Ssl.Method == SslMethod.None) Assert.DoesNotContain("\"ssl\"", c.ToCanonicalJson());
            else ssl++;
            Assert.Equal(text.ReplaceLineEndings("\n"), ConfigJson.Indented(c));
        }
        Assert.True(ssl > 0, "no committed DINOv2 run config (results/quick/backbones/runs/pretrain-dinov2-*)");
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
    [InlineData("ssl.local_crop_size=64", "ssl.local_crop_size")]
    public void CombinationsTheDinoV2TrainerRefusesNameTheKey(string setting, string key)
    {
        var c = RunConfig.Load(null, "ssl.method=dinov2", "model.name=vit_tiny_patch16_224", "model.img_size=32", "data.dataset=fashion-objects", setting);
        var e = Assert.Throws<ConfigException>(() => Trainer.Check(c));
        Assert.StartsWith(key, e.Key);
    }
}
