namespace Reproduce.Torch;

/// <summary>Loss reductions, numbered as at::Reduction.</summary>
public enum Reduction
{
    /// <summary>Per-element losses.</summary>
    None = 0,
    /// <summary>Mean over elements (or over non-ignored targets).</summary>
    Mean = 1,
    /// <summary>Sum over elements.</summary>
    Sum = 2,
}

/// <summary>Interpolation modes of <see cref="F.Interpolate"/>.</summary>
public enum InterpolationMode
{
    /// <summary>Nearest neighbour (PyTorch's legacy 'nearest').</summary>
    Nearest,
    /// <summary>Bilinear.</summary>
    Bilinear,
    /// <summary>Bicubic (a = −0.75, as PyTorch).</summary>
    Bicubic,
}

/// <summary>Neural-network functions (like <c>torch.nn.functional</c>).</summary>
public static class F
{
    private static Op A(string name) => Op.Get(name);

    /// <summary>y = x·Wᵀ + b.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null) => A("aten::linear").Invoke(input, weight, bias);

    /// <summary>2-d convolution, input [N,C,H,W], weight [O,C/groups,kh,kw].</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null, long[]? dilation = null, long groups = 1) =>
        A("aten::conv2d").Invoke(input, weight, bias, stride ?? [1, 1], padding ?? [0, 0], dilation ?? [1, 1], groups);

    /// <summary>1-d convolution, input [N,C,L], weight [O,C/groups,k].</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
        A("aten::conv1d").Invoke(input, weight, bias, new[] { stride }, new[] { padding }, new[] { dilation }, groups);

    /// <summary>2-d transposed convolution, weight [C, O/groups, kh, kw].</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null, long[]? outputPadding = null, long groups = 1, long[]? dilation = null) =>
        A("aten::conv_transpose2d.input").Invoke(input, weight, bias, stride ?? [1, 1], padding ?? [0, 0], outputPadding ?? [0, 0], groups, dilation ?? [1, 1]);

    /// <summary>1-d transposed convolution.</summary>
    public static Tensor ConvTranspose1d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, long dilation = 1) =>
        A("aten::conv_transpose1d").Invoke(input, weight, bias, new[] { stride }, new[] { padding }, new[] { outputPadding }, groups, new[] { dilation });

    /// <summary>LayerNorm over the trailing <paramref name="normalizedShape"/> dimensions.</summary>
    public static Tensor LayerNorm(Tensor input, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        A("aten::layer_norm").Invoke(input, normalizedShape, weight, bias, eps, true);

    /// <summary>BatchNorm; in training it normalises with batch statistics and updates the running ones in place.</summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        A("aten::batch_norm").Invoke(input, weight, bias, runningMean, runningVar, training, momentum, eps, true);

    /// <summary>GroupNorm over <paramref name="groups"/> channel groups.</summary>
    public static Tensor GroupNorm(Tensor input, long groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        A("aten::group_norm").Invoke(input, groups, weight, bias, eps, true);

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public static Tensor Softmax(Tensor input, long dim, ScalarType? dtype = null) => A("aten::softmax.int").Invoke(input, dim, dtype);
    /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
    public static Tensor LogSoftmax(Tensor input, long dim, ScalarType? dtype = null) => A("aten::log_softmax.int").Invoke(input, dim, dtype);
    /// <summary>GELU, exact (erf) or with the tanh approximation.</summary>
    public static Tensor Gelu(Tensor input, bool tanhApproximation = false) => A("aten::gelu").Invoke(input, tanhApproximation ? "tanh" : "none");
    /// <summary>ReLU.</summary>
    public static Tensor Relu(Tensor input) => A("aten::relu").Invoke(input);
    /// <summary>SiLU (swish).</summary>
    public static Tensor Silu(Tensor input) => A("aten::silu").Invoke(input);
    /// <summary>Leaky ReLU.</summary>
    public static Tensor LeakyRelu(Tensor input, double slope = 0.01) => A("aten::leaky_relu").Invoke(input, slope);
    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor input) => A("aten::sigmoid").Invoke(input);

    /// <summary>Dropout: zeros elements with probability p and scales the rest by 1/(1−p) when training.</summary>
    public static Tensor Dropout(Tensor input, double p, bool training) =>
        training && p > 0 ? A("aten::dropout").Invoke(input, p, true) : A("aten::alias").Invoke(input);

    /// <summary>
    /// Cross-entropy from logits. Targets are class indices (int64, optional <paramref name="ignoreIndex"/>)
    /// or class probabilities (float, same shape as input). Label smoothing ε mixes the target with the
    /// uniform distribution: (1−ε)·y + ε/K.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100, double labelSmoothing = 0) =>
        A("aten::cross_entropy_loss").Invoke(input, target, weight, (long)reduction, ignoreIndex, labelSmoothing);

    /// <summary>Negative log-likelihood from log-probabilities.</summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100) =>
        A("aten::nll_loss_nd").Invoke(input, target, weight, (long)reduction, ignoreIndex);

    /// <summary>Binary cross-entropy on logits (numerically stable), with optional <paramref name="posWeight"/>.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean) =>
        A("aten::binary_cross_entropy_with_logits").Invoke(input, target, weight, posWeight, (long)reduction);

    /// <summary>Binary cross-entropy on probabilities.</summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean) =>
        A("aten::binary_cross_entropy").Invoke(input, target, weight, (long)reduction);

    /// <summary>Mean squared error.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => A("aten::mse_loss").Invoke(input, target, (long)reduction);
    /// <summary>Mean absolute error.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => A("aten::l1_loss").Invoke(input, target, (long)reduction);
    /// <summary>Smooth L1 (Huber with β).</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0) =>
        A("aten::smooth_l1_loss").Invoke(input, target, (long)reduction, beta);
    /// <summary>KL divergence with log-probability input; <paramref name="logTarget"/> when the target is log-probabilities too.</summary>
    public static Tensor KlDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false) =>
        A("aten::kl_div").Invoke(input, target, (long)reduction, logTarget);

    /// <summary>
    /// Resizes [N,C,H,W] to <paramref name="size"/> (or by <paramref name="scale"/>). Nearest is PyTorch's
    /// legacy 'nearest'; bilinear/bicubic honour <paramref name="alignCorners"/> and optional antialiasing.
    /// </summary>
    public static Tensor Interpolate(Tensor input, long[]? size = null, double[]? scale = null, InterpolationMode mode = InterpolationMode.Bilinear, bool alignCorners = false, bool antialias = false)
    {
        if ((size is null) == (scale is null))
            throw new ArgumentException($"F.Interpolate({input.Describe()}): give exactly one of size and scale");
        return mode switch
        {
            InterpolationMode.Nearest => A("aten::upsample_nearest2d.vec").Invoke(input, size, scale),
            InterpolationMode.Bilinear => A(antialias ? "aten::_upsample_bilinear2d_aa.vec" : "aten::upsample_bilinear2d.vec").Invoke(input, size, alignCorners, scale),
            InterpolationMode.Bicubic => A(antialias ? "aten::_upsample_bicubic2d_aa.vec" : "aten::upsample_bicubic2d.vec").Invoke(input, size, alignCorners, scale),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
    }

    /// <summary>
    /// Samples <paramref name="input"/> [N,C,H,W] at normalised grid locations [N,Ho,Wo,2] (x, y in [−1, 1]).
    /// Modes: 0 bilinear, 1 nearest, 2 bicubic; padding: 0 zeros, 1 border, 2 reflection.
    /// </summary>
    public static Tensor GridSample(Tensor input, Tensor grid, long mode = 0, long padding = 0, bool alignCorners = false) =>
        A("aten::grid_sampler").Invoke(input, grid, mode, padding, alignCorners);

    /// <summary>Sampling grid [N,H,W,2] for a batch of 2×3 affine matrices <paramref name="theta"/>.</summary>
    public static Tensor AffineGrid(Tensor theta, long[] size, bool alignCorners = false) =>
        A("aten::affine_grid_generator").Invoke(theta, size, alignCorners);

    /// <summary>
    /// RoIAlign-equivalent crop-and-resize: for each box (batch index, x1, y1, x2, y2) in pixel
    /// coordinates of <paramref name="input"/> [N,C,H,W] (pixel centres at +0.5, i.e. torchvision's
    /// <c>aligned=True</c>), bilinearly samples an <paramref name="outH"/>×<paramref name="outW"/> grid at the
    /// bin centres. Equals torchvision's roi_align with sampling_ratio=1 and aligned=True wherever the bin
    /// centres lie within one pixel of the image ([−1, H] × [−1, W] in pixel-index coordinates): like
    /// roi_align, samples between the outermost pixel centres and the image edge take the edge pixel's
    /// value (grid_sample's border padding). Further out roi_align gives 0 and this gives the edge value.
    /// </summary>
    public static Tensor CropResize(Tensor input, Tensor boxes, long outH, long outW)
    {
        using var s = Scope.Enter();
        var shape = input.Shape;
        if (shape.Length != 4) throw new ArgumentException($"F.CropResize: input must be [N,C,H,W], got {input.Describe()}");
        var b = boxes.Shape;
        if (b.Length != 2 || b[1] != 5) throw new ArgumentException($"F.CropResize: boxes must be [K,5] (batch, x1, y1, x2, y2), got {boxes.Describe()}");
        double h = shape[2], w = shape[3];
        var bx = boxes.To(input.DType);
        var idx = boxes.Select(1, 0).Long();
        var x1 = bx.Select(1, 1); var y1 = bx.Select(1, 2); var x2 = bx.Select(1, 3); var y2 = bx.Select(1, 4);
        // With align_corners=False, normalised x = 2·px/W − 1 maps pixel edges to ±1, so a box [x1,x2]
        // maps to centre (x1+x2)/W − 1 and half-width (x2−x1)/W; the grid samples bin centres.
        var zeros = Torch.ZerosLike(x1);
        var row0 = Tensor.Stack([x2.Sub(x1).Div(w), zeros, x1.Add(x2).Div(w).Sub(1.0)], 1);
        var row1 = Tensor.Stack([zeros, y2.Sub(y1).Div(h), y1.Add(y2).Div(h).Sub(1.0)], 1);
        var theta = Tensor.Stack([row0, row1], 1);
        var grid = AffineGrid(theta, [b[0], shape[1], outH, outW], alignCorners: false);
        var src = input.IndexSelect(0, idx);
        // padding 1 (border) clamps to the outermost pixel centres, as roi_align's bilinear_interpolate does.
        return s.MoveOut(GridSample(src, grid, 0, 1, alignCorners: false));
    }

    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v over the last two dimensions of [B,H,N,D] inputs. Uses
    /// aten::scaled_dot_product_attention where this libtorch has it (2.x), else the same math explicitly.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, double dropout = 0, bool training = false, double? scale = null)
    {
        var p = training ? dropout : 0.0;
        var sdpa = Op.TryGet("aten::scaled_dot_product_attention");
        if (sdpa is not null && (scale is null || sdpa.Schema.Contains("scale", StringComparison.Ordinal)))
            return scale is null ? sdpa.Invoke(q, k, v, mask, p, false) : sdpa.Invoke(q, k, v, mask, p, false, scale);
        return AttentionMath(q, k, v, mask, p, scale);
    }

    /// <summary>The explicit attention path (what timm runs without fused attention).</summary>
    public static Tensor AttentionMath(Tensor q, Tensor k, Tensor v, Tensor? mask = null, double dropout = 0, double? scale = null)
    {
        using var s = Scope.Enter();
        var d = q.Size(-1);
        var attn = q.Mul(scale ?? 1.0 / Math.Sqrt(d)).Matmul(k.Transpose(-2, -1));
        if (mask is not null)
            attn = mask.DType == ScalarType.Bool ? attn.MaskedFill(mask.LogicalNot(), double.NegativeInfinity) : attn.Add(mask);
        attn = Softmax(attn, -1);
        if (dropout > 0) attn = Dropout(attn, dropout, true);
        return s.MoveOut(attn.Matmul(v));
    }

    /// <summary>Constant padding; <paramref name="pad"/> lists (left, right) pairs from the last dimension backwards.</summary>
    public static Tensor Pad(Tensor input, long[] pad, double value = 0) => A("aten::constant_pad_nd").Invoke(input, pad, value);
    /// <summary>2-d average pooling.</summary>
    public static Tensor AvgPool2d(Tensor input, long[] kernel, long[]? stride = null, long[]? padding = null) =>
        A("aten::avg_pool2d").Invoke(input, kernel, stride ?? kernel, padding ?? [0, 0]);
    /// <summary>2-d max pooling.</summary>
    public static Tensor MaxPool2d(Tensor input, long[] kernel, long[]? stride = null, long[]? padding = null) =>
        A("aten::max_pool2d").Invoke(input, kernel, stride ?? kernel, padding ?? [0, 0]);
    /// <summary>Adaptive average pooling to an output size.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, long[] outputSize) => A("aten::adaptive_avg_pool2d").Invoke(input, outputSize);
    /// <summary>Sliding local blocks [N, C·kh·kw, L] (im2col).</summary>
    public static Tensor Unfold(Tensor input, long[] kernel, long[]? dilation = null, long[]? padding = null, long[]? stride = null) =>
        A("aten::im2col").Invoke(input, kernel, dilation ?? [1, 1], padding ?? [0, 0], stride ?? [1, 1]);
    /// <summary>Einstein summation.</summary>
    public static Tensor Einsum(string equation, params Tensor[] operands) => A("aten::einsum").Invoke(equation, operands);
}
