namespace Reproduce.Torch.Tests;

/// <summary>
/// Forward values against PyTorch (tests/fixtures/ops.json): each case rebuilds the stored inputs, runs
/// the binding's op and compares every stored output (float32 1e-5 rel+abs, float64 1e-10).
/// </summary>
public class FixtureTests
{
    private delegate Dictionary<string, Tensor> Runner(FixtureCase c);

    /// <summary>The case names, for the theory.</summary>
    public static TheoryData<string> CaseNames => new(Fixtures.CaseNames);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        using var s = Scope.Enter();
        var c = Fixtures.Case(name);
        Assert.True(Runners.TryGetValue(name, out var run), $"fixture case '{name}' has no runner in FixtureTests");
        var actual = run(c);
        var expected = c.OutputNames.ToArray();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.OrderBy(x => x, StringComparer.Ordinal), actual.Keys.OrderBy(x => x, StringComparer.Ordinal));
        foreach (var key in expected)
            Fixtures.AssertClose(actual[key], c.Out(key), $"{name}.{key}");
    }

    [Fact]
    public void EveryRunnerHasAFixtureCase()
    {
        var cases = Fixtures.CaseNames.ToHashSet(StringComparer.Ordinal);
        Assert.All(Runners.Keys, k => Assert.Contains(k, cases));
        Assert.True(cases.Count >= 30, $"only {cases.Count} fixture cases");
    }

    [Fact]
    public void FixtureWasWrittenByTheSameTorchVersion()
    {
        var v = Fixtures.Root.GetProperty("torch_version").GetString()!;
        Assert.StartsWith(Torch.Version, v, StringComparison.Ordinal);
    }

    private static Dictionary<string, Tensor> One(string key, Tensor t) => new() { [key] = t };

    private static readonly Dictionary<string, Runner> Runners = new(StringComparer.Ordinal)
    {
        ["linear_f32"] = c => One("y", F.Linear(c.In("x"), c.In("w"), c.In("b"))),
        ["linear_f64"] = c => One("y", F.Linear(c.In("x"), c.In("w"), c.In("b"))),
        ["conv2d_f32"] = Conv2d,
        ["conv2d_f64"] = Conv2d,
        ["conv2d_plain_f32"] = Conv2d,
        ["conv_transpose2d_f32"] = ConvTranspose2d,
        ["conv_transpose2d_groups_f64"] = ConvTranspose2d,
        ["layer_norm_f32"] = c => One("y", F.LayerNorm(c.In("x"), [8], c.In("w"), c.In("b"), c.Double("eps"))),
        ["layer_norm_f64"] = c => One("y", F.LayerNorm(c.In("x"), [3, 4], c.In("w"), c.In("b"), c.Double("eps"))),
        ["batch_norm_train_f32"] = c =>
        {
            var rm = c.In("running_mean");
            var rv = c.In("running_var");
            var y = F.BatchNorm(c.In("x"), rm, rv, c.In("w"), c.In("b"), training: true, momentum: c.Double("momentum"), eps: c.Double("eps"));
            return new() { ["y"] = y, ["running_mean"] = rm, ["running_var"] = rv };
        },
        ["batch_norm_eval_f32"] = c => One("y", F.BatchNorm(c.In("x"), c.In("running_mean"), c.In("running_var"), c.In("w"), c.In("b"), training: false, eps: c.Double("eps"))),
        ["group_norm_f32"] = c => One("y", F.GroupNorm(c.In("x"), c.Int("groups"), c.In("w"), c.In("b"), c.Double("eps"))),
        ["softmax_f32"] = c =>
        {
            var x = c.In("x");
            return new() { ["softmax"] = F.Softmax(x, -1), ["log_softmax"] = F.LogSoftmax(x, -1), ["softmax0"] = F.Softmax(x, 0) };
        },
        ["gelu_f32"] = c =>
        {
            var x = c.In("x");
            return new()
            {
                ["erf"] = F.Gelu(x), ["tanh"] = F.Gelu(x, tanhApproximation: true), ["silu"] = F.Silu(x),
                ["leaky_relu"] = F.LeakyRelu(x, 0.1), ["sigmoid"] = x.Sigmoid(),
            };
        },
        ["gelu_f64"] = c => new() { ["erf"] = F.Gelu(c.In("x")), ["tanh"] = F.Gelu(c.In("x"), tanhApproximation: true) },
        ["cross_entropy_f32"] = CrossEntropy,
        ["cross_entropy_spatial_f64"] = c => One("mean_smooth", F.CrossEntropy(c.In("logits"), c.In("target"), labelSmoothing: 0.05)),
        ["bce_with_logits_f32"] = c =>
        {
            Tensor x = c.In("x"), t = c.In("t"), w = c.In("w"), pw = c.In("pos_weight");
            return new()
            {
                ["none"] = F.BinaryCrossEntropyWithLogits(x, t, w, pw, Reduction.None),
                ["mean"] = F.BinaryCrossEntropyWithLogits(x, t, w, pw),
                ["plain_sum"] = F.BinaryCrossEntropyWithLogits(x, t, reduction: Reduction.Sum),
                ["bce_mean"] = F.BinaryCrossEntropy(x.Sigmoid(), t, w),
            };
        },
        ["interpolate_f32"] = Interpolate,
        ["grid_sample_f32"] = GridSample,
        ["roi_align_f32"] = RoiAlign,
        ["roi_align_f64"] = RoiAlign,
        ["roi_align_border_f32"] = RoiAlign,
        ["attention_f32"] = c =>
        {
            Tensor q = c.In("q"), k = c.In("k"), v = c.In("v");
            return new()
            {
                ["plain"] = F.ScaledDotProductAttention(q, k, v),
                ["bool"] = F.ScaledDotProductAttention(q, k, v, c.In("bool_mask")),
                ["additive_scaled"] = F.AttentionMath(q, k, v, c.In("add_mask"), scale: 0.25),
            };
        },
        ["topk_f32"] = c =>
        {
            var x = c.In("x");
            var (v, i) = x.TopK(4);
            var (sv, si) = x.TopK(3, dim: 0, largest: false);
            return new() { ["values"] = v, ["indices"] = i, ["small_values"] = sv, ["small_indices"] = si };
        },
        ["sort_f32"] = c =>
        {
            var x = c.In("x");
            var (v, i) = x.Sort();
            var (dv, di) = x.Sort(0, descending: true);
            return new() { ["values"] = v, ["indices"] = i, ["desc_values"] = dv, ["desc_indices"] = di, ["argsort"] = x.Argsort(1, descending: true) };
        },
        ["argmax_f32"] = c =>
        {
            var x = c.In("x");
            var (mv, mi) = x.Max(1);
            return new() { ["argmax1"] = x.Argmax(1), ["argmax"] = x.Argmax(), ["argmin0"] = x.Argmin(0), ["max_values"] = mv, ["max_indices"] = mi };
        },
        ["cumsum_f64"] = c =>
        {
            var x = c.In("x");
            return new()
            {
                ["dim1"] = x.CumSum(1), ["dim0"] = x.CumSum(0), ["logsumexp"] = x.LogSumExp([1]), ["std"] = x.Std([1]),
                ["var_biased"] = x.Var([0], unbiased: false), ["norm"] = x.Norm(3, [1]), ["prod"] = x.Prod(),
            };
        },
        ["scatter_gather_f32"] = c =>
        {
            Tensor x = c.In("x"), idx = c.In("idx"), uniq = c.In("uniq"), src = c.In("src");
            return new()
            {
                ["gather"] = x.Gather(1, idx), ["scatter"] = x.Scatter(1, uniq, src), ["scatter_value"] = x.Scatter(1, uniq, 2.5),
                ["scatter_add"] = x.ScatterAdd(1, idx, src), ["scatter_reduce_amax"] = x.ScatterReduce(1, idx, src, "amax"),
                ["scatter_reduce_mean"] = x.ScatterReduce(1, idx, src, "mean", includeSelf: false),
                ["index_select"] = x.IndexSelect(1, Tensor.From(new long[] { 4, 0, 0 })),
            };
        },
        ["one_hot"] = c => new() { ["y"] = Torch.OneHot(c.In("labels"), 6), ["bincount"] = c.In("labels").Bincount(7) },
        ["pool_f32"] = c =>
        {
            var x = c.In("x");
            return new()
            {
                ["max"] = F.MaxPool2d(x, [3, 3], [2, 2], [1, 1]), ["avg"] = F.AvgPool2d(x, [2, 3]), ["avg_pad"] = F.AvgPool2d(x, [3, 3], [2, 2], [1, 1]),
                ["adaptive"] = F.AdaptiveAvgPool2d(x, [3, 4]), ["unfold"] = F.Unfold(x, [2, 3], dilation: [2, 1], padding: [1, 1], stride: [1, 2]),
                ["pad"] = F.Pad(x, [1, 2, 0, 1], -0.5),
            };
        },
        ["einsum_f32"] = c =>
        {
            Tensor a = c.In("a"), b = c.In("b");
            return new()
            {
                ["bmm"] = F.Einsum("bij,bjk->bik", a, b), ["trace_like"] = F.Einsum("bij->bj", a),
                ["outer"] = F.Einsum("i,j->ij", a.Select(0, 0).Select(0, 0), b.Select(0, 0).Select(0, 0)),
            };
        },
    };

    private static Dictionary<string, Tensor> Conv2d(FixtureCase c) =>
        One("y", F.Conv2d(c.In("x"), c.In("w"), c.In("b"), c.Ints("stride"), c.Ints("padding"), c.Ints("dilation"), c.Int("groups")));

    private static Dictionary<string, Tensor> ConvTranspose2d(FixtureCase c)
    {
        var bias = c.Name.Contains("groups", StringComparison.Ordinal) ? null : c.In("b");
        return One("y", F.ConvTranspose2d(c.In("x"), c.In("w"), bias, c.Ints("stride"), c.Ints("padding"), c.Ints("output_padding"), c.Int("groups"), c.Ints("dilation")));
    }

    private static Dictionary<string, Tensor> CrossEntropy(FixtureCase c)
    {
        Tensor x = c.In("logits"), t = c.In("target"), w = c.In("weight"), soft = c.In("soft");
        return new()
        {
            ["hard_none"] = F.CrossEntropy(x, t, w, Reduction.None),
            ["hard_mean"] = F.CrossEntropy(x, t, w),
            ["hard_sum_smooth"] = F.CrossEntropy(x, t, w, Reduction.Sum, labelSmoothing: 0.1),
            ["hard_mean_smooth"] = F.CrossEntropy(x, t, w, labelSmoothing: 0.2),
            ["soft_mean"] = F.CrossEntropy(x, soft),
            ["soft_none_weight"] = F.CrossEntropy(x, soft, w, Reduction.None),
            ["soft_mean_smooth"] = F.CrossEntropy(x, soft, labelSmoothing: 0.1),
            ["nll_mean"] = F.NllLoss(F.LogSoftmax(x, 1), t, w),
        };
    }

    private static Dictionary<string, Tensor> Interpolate(FixtureCase c)
    {
        var x = c.In("x");
        var r = new Dictionary<string, Tensor>
        {
            ["nearest_up"] = F.Interpolate(x, size: [7, 9], mode: InterpolationMode.Nearest),
            ["nearest_down"] = F.Interpolate(x, size: [3, 4], mode: InterpolationMode.Nearest),
            ["nearest_scale"] = F.Interpolate(x, scale: [1.5, 1.7], mode: InterpolationMode.Nearest),
        };
        foreach (var (mode, tag) in new[] { (InterpolationMode.Bilinear, "bilinear"), (InterpolationMode.Bicubic, "bicubic") })
        {
            foreach (var ac in new[] { false, true })
            {
                var sfx = ac ? "ac" : "noac";
                r[$"{tag}_up_{sfx}"] = F.Interpolate(x, size: [7, 9], mode: mode, alignCorners: ac);
                r[$"{tag}_down_{sfx}"] = F.Interpolate(x, size: [3, 4], mode: mode, alignCorners: ac);
            }
            r[$"{tag}_down_aa"] = F.Interpolate(x, size: [3, 4], mode: mode, antialias: true);
            r[$"{tag}_up_aa"] = F.Interpolate(x, size: [7, 9], mode: mode, antialias: true);
            r[$"{tag}_scale"] = F.Interpolate(x, scale: [1.5, 0.5], mode: mode);
        }
        return r;
    }

    private static Dictionary<string, Tensor> GridSample(FixtureCase c)
    {
        Tensor x = c.In("x"), grid = c.In("grid");
        var r = new Dictionary<string, Tensor>();
        string[] modes = ["bilinear", "nearest", "bicubic"], pads = ["zeros", "border", "reflection"];
        for (var m = 0; m < modes.Length; m++)
            for (var p = 0; p < pads.Length; p++)
                foreach (var ac in new[] { false, true })
                    r[$"{modes[m]}_{pads[p]}_{(ac ? "ac" : "noac")}"] = F.GridSample(x, grid, m, p, ac);
        return r;
    }

    private static Dictionary<string, Tensor> RoiAlign(FixtureCase c) =>
        One("y", F.CropResize(c.In("x"), c.In("boxes"), c.Int("out_h"), c.Int("out_w")));
}
