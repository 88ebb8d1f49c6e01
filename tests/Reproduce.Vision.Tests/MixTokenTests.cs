using Reproduce.Vision.Models.Layers;
using Reproduce.Vision.Tokens;

namespace Reproduce.Vision.Tests;

/// <summary>MixToken's box, token mixing and swap-back (TokenLabeling semantics). Seeds the default generator, so serial.</summary>
[Collection(nameof(SerialTests))]
public class MixTokenTests
{
    // A token-labeling ViT small enough for exact comparisons; depth 0 leaves every patch token on its own
    // (no attention), which makes "each logit belongs to its own image's patch" checkable exactly.
    private static VitConfig Small(int depth, bool convStem = false) => new()
    {
        ImgSize = 16, PatchSize = 4, InChans = 3, NumClasses = 5, EmbedDim = 16, Depth = depth, NumHeads = 2,
        ReturnDense = true, MixToken = true, EmbedLayer = convStem ? EmbedLayer.ConvStem : EmbedLayer.Patch, StemChannels = 8,
    };

    [Fact]
    public void RandBboxFollowsTokenLabeling()
    {
        // λ = 1 cuts nothing, wherever the centre falls.
        for (var r = 0; r < 14; r++)
            Assert.True(MixToken.RandBbox(14, 14, 1.0, r, 13 - r).IsEmpty);
        // λ = 0.75: side ⌊14·0.5⌋ = 7, half 3 → rows/cols [7−3, 7+3).
        Assert.Equal(new MixTokenBox(4, 4, 10, 10, 14, 14, 0.75), MixToken.RandBbox(14, 14, 0.75, 7, 7));
        // λ = 0 at a corner: side 14, half 7, clipped to the grid.
        var corner = MixToken.RandBbox(14, 14, 0.0, 0, 13);
        Assert.Equal((0, 6, 7, 14), (corner.Top, corner.Left, corner.Bottom, corner.Right));
        // Non-square grid: rows use H, columns W (TokenLabeling's bbx on dimension 2, bby on dimension 3).
        var rect = MixToken.RandBbox(4, 10, 0.75, 2, 5); // sides ⌊4·0.5⌋ = 2 and ⌊10·0.5⌋ = 5, halves 1 and 2
        Assert.Equal((1, 3, 3, 7), (rect.Top, rect.Left, rect.Bottom, rect.Right));
        Assert.Throws<ArgumentException>(() => MixToken.RandBbox(14, 14, 1.5, 0, 0));
    }

    [Fact]
    public void ClassTargetWeightIsOneMinusTheAreaActuallySwappedOverN()
    {
        using var gen = new Generator(5);
        var sampler = new MixToken(1.0, gen);
        using var scope = Scope.Enter();
        // Image 0 is all 0, image 1 all 1: after mixing, the 1s in image 0 are exactly the swapped tokens.
        var owner = Tensor.Cat([Torch.Torch.Zeros([1, 1, 14, 14]), Torch.Torch.Ones([1, 1, 14, 14])], 0);
        var clipped = 0;
        for (var i = 0; i < 300; i++)
        {
            var box = sampler.Sample(14, 14);
            Assert.InRange(box.SampledLambda, 0.0, 1.0);
            var swapped = (int)MixToken.Mix(owner, box).Select(0, 0).Sum().ToDouble();
            Assert.Equal(1.0 - (double)swapped / 196, box.ClassTargetWeight);
            Assert.Equal(box.Area, swapped);
            var side = (int)(14 * Math.Sqrt(1 - box.SampledLambda)) / 2 * 2;
            if (box.Bottom - box.Top < side || box.Right - box.Left < side) clipped++;
        }
        Assert.True(clipped > 0, "no sampled box was clipped at the border");
    }

    [Fact]
    public void SamplingIsSeededAndLambdaIsBetaOneOne()
    {
        static List<MixTokenBox> Draw(ulong seed, int n)
        {
            using var g = new Generator(seed);
            var m = new MixToken(1.0, g);
            return Enumerable.Range(0, n).Select(_ => m.Sample(14, 14)).ToList();
        }
        Assert.Equal(Draw(3, 50), Draw(3, 50));
        Assert.NotEqual(Draw(3, 50), Draw(4, 50));
        var lambdas = Draw(9, 2000).Select(b => b.SampledLambda).ToList();
        Assert.InRange(lambdas.Average(), 0.47, 0.53); // Beta(1,1) = U(0,1): mean 1/2 (σ of the mean ≈ 0.0065)
        Assert.InRange(lambdas.Count(l => l < 0.25), 440, 560);
    }

    [Fact]
    public void AnEmptyBoxGivesTheUnmixedForward()
    {
        Torch.Torch.ManualSeed(1);
        using var model = new VisionTransformer(Small(depth: 2, convStem: true));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([4, 3, 16, 16]);
        model.Train(); // BatchNorm in the stem uses batch statistics; no dropout is configured
        var empty = MixToken.RandBbox(4, 4, 1.0, 2, 1);
        Assert.True(empty.IsEmpty);
        var mixed = model.ForwardTokenLabeling(x, empty);
        var features = model.ForwardFeatures(x);
        Assert.True(mixed.ClsLogits.Equal(model.ClassLogits(features)), "class logits with an empty box differ from the unmixed forward");
        Assert.True(mixed.AuxLogits.Equal(model.AuxLogits(features)), "aux logits with an empty box differ from the unmixed forward");
        Assert.Equal(1.0, mixed.Box.ClassTargetWeight);
    }

    [Fact]
    public void SwappedBackAuxLogitsLineUpWithEachImagesOwnTokenGrid()
    {
        Torch.Torch.ManualSeed(2);
        using var model = new VisionTransformer(Small(depth: 0, convStem: true));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([3, 3, 16, 16]); // odd batch: image 1 is its own partner
        model.Train();
        var box = new MixTokenBox(1, 0, 3, 3, 4, 4);
        var unmixed = model.ForwardTokenLabeling(x, MixTokenBox.Empty(4, 4)).AuxLogits;
        var mixed = model.ForwardTokenLabeling(x, box);

        // Without attention every token's logits depend on its own patch only, so after the swap-back each
        // position must hold exactly its own image's logits.
        Assert.True(mixed.AuxLogits.Equal(unmixed), "swapped-back aux logits are not the images' own");

        // Before the swap-back (swapping is an involution) the box held the partner's tokens: the mix happened.
        var raw = MixToken.SwapBack(mixed.AuxLogits, box);
        for (var i = 0; i < 3; i++)
            for (var r = 0; r < 4; r++)
                for (var c = 0; c < 4; c++)
                {
                    var source = box.Contains(r, c) ? 2 - i : i;
                    Assert.True(raw.Select(0, i).Select(0, r * 4 + c).Equal(unmixed.Select(0, source).Select(0, r * 4 + c)), $"image {i} token ({r},{c})");
                }
        Assert.False(raw.Equal(unmixed));
    }

    [Fact]
    public void WithAttentionTheMixChangesTheClassLogitsAndGradientsFlow()
    {
        Torch.Torch.ManualSeed(3);
        using var model = new VisionTransformer(Small(depth: 2));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 3, 16, 16]);
        model.Train();
        var plain = model.ForwardTokenLabeling(x, MixTokenBox.Empty(4, 4));
        var box = new MixTokenBox(0, 1, 2, 4, 4, 4);
        var mixed = model.ForwardTokenLabeling(x, box);
        Assert.False(mixed.ClsLogits.Equal(plain.ClsLogits));
        Assert.Equal(1.0 - 6.0 / 16, mixed.Box.ClassTargetWeight);
        mixed.ClsLogits.Sum().Add(mixed.AuxLogits.Square().Sum()).Backward();
        foreach (var (name, p) in model.NamedParameters())
            Assert.True(p.Grad is not null, $"no gradient reached {name}");
    }

    [Fact]
    public void TrainingForwardDrawsABoxAndForwardRefusesToSkipMixToken()
    {
        Torch.Torch.ManualSeed(4);
        using var model = new VisionTransformer(Small(depth: 1));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 3, 16, 16]);
        model.Train();
        var boxes = Enumerable.Range(0, 20).Select(_ => model.ForwardTokenLabeling(x).Box).ToList();
        Assert.Contains(boxes, b => !b.IsEmpty);
        Assert.All(boxes, b => Assert.Equal((4, 4), (b.GridHeight, b.GridWidth)));
        var ex = Assert.Throws<InvalidOperationException>(() => model.Forward(x));
        Assert.Contains("ForwardTokenLabeling", ex.Message);

        model.Eval();
        Assert.True(model.ForwardTokenLabeling(x).Box.IsEmpty); // eval: nothing is mixed
        var features = model.ForwardFeatures(x);
        var prediction = model.ClassLogits(features).Add(model.AuxLogits(features).Amax([1]).Mul(0.5));
        Assert.True(model.Forward(x).Equal(prediction), "eval prediction is not cls + 0.5·max aux");

        Assert.Throws<ArgumentException>(() => model.ForwardTokenLabeling(x, MixTokenBox.Empty(7, 7)));
        Assert.Throws<ArgumentException>(() => model.ForwardTokenLabeling(x, new MixTokenBox(0, 0, 5, 2, 4, 4)));
        using var plain = new VisionTransformer(Small(1) with { ReturnDense = false, MixToken = false });
        Assert.Throws<InvalidOperationException>(() => plain.ForwardTokenLabeling(x));
    }
}
