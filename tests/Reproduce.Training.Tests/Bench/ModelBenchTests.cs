using Reproduce.Training.Bench;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Bench;

/// <summary><see cref="ModelBench"/>'s parsing of <c>--variant</c> and <c>--mode</c> (no model is built).</summary>
public class ModelBenchTests
{
    [Fact]
    public void VariantSplitsOnCommasThatStartAnOption()
    {
        var config = ModelRegistry.Get("vit_tiny_fm28").Config;

        var simple = ModelBench.ParseVariant("sta=on,anf=on", config);
        var nested = ModelBench.ParseVariant("anf=kernel_size=5,conv_axis=grid2d,sta=on", config);

        Assert.Equal([new("sta", "on"), new KeyValuePair<string, string>("anf", "on")], simple);
        Assert.Equal([new("anf", "kernel_size=5,conv_axis=grid2d"), new KeyValuePair<string, string>("sta", "on")], nested);
        Assert.Equal([new("sta", "on"), new KeyValuePair<string, string>("bogus", "1")], ModelBench.ParseVariant("sta=on,bogus=1", config));
        Assert.Equal([new KeyValuePair<string, string>("anf", "after_blocks=1,2")], ModelBench.ParseVariant("anf=after_blocks=1,2", config));
        Assert.Throws<ArgumentException>(() => ModelBench.ParseVariant("", config));
    }

    [Fact]
    public void ModeParsesTrainAndInfer()
    {
        Assert.Equal(BenchMode.Train, ModelBench.ParseMode("train"));
        Assert.Equal(BenchMode.Infer, ModelBench.ParseMode("Infer"));
        Assert.Throws<ArgumentException>(() => ModelBench.ParseMode("eval"));
    }
}
