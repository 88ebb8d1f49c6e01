using Reproduce.Training.Bench;

namespace Reproduce.Training.Tests.Bench;

/// <summary><see cref="ModelBench"/>'s parsing of <c>--variant</c> and <c>--mode</c> (no model is built).</summary>
public class ModelBenchTests
{
    [Fact]
    public void VariantSplitsOnCommasOutsideJsonBrackets()
    {
        Assert.Equal(["sta={}", "anf={}"], ModelBench.ParseVariant("sta={},anf={}"));
        Assert.Equal(["anf.after_blocks=[1,2]", "sta={\"tau\":0.1,\"alpha\":1}", "model.drop_path_rate=0.1"],
            ModelBench.ParseVariant("anf.after_blocks=[1,2],sta={\"tau\":0.1,\"alpha\":1}, model.drop_path_rate=0.1"));
        Assert.Throws<ArgumentException>(() => ModelBench.ParseVariant(""));
    }

    [Fact]
    public void ModeParsesTrainAndInfer()
    {
        Assert.Equal(BenchMode.Train, ModelBench.ParseMode("train"));
        Assert.Equal(BenchMode.Infer, ModelBench.ParseMode("Infer"));
        Assert.Throws<ArgumentException>(() => ModelBench.ParseMode("eval"));
    }
}
