using Reproduce.Torch;

namespace Reproduce.Training.Probes;

/// <summary>One window of <see cref="SlideInference"/>: rows [Y1, Y2) and columns [X1, X2) of the image.</summary>
/// <param name="Y1">First row.</param>
/// <param name="Y2">One past the last row.</param>
/// <param name="X1">First column.</param>
/// <param name="X2">One past the last column.</param>
public readonly record struct SlideWindow(int Y1, int Y2, int X1, int X2)
{
    /// <summary>Rows covered (the crop height, or the image height when the image is smaller).</summary>
    public int Height => Y2 - Y1;
    /// <summary>Columns covered.</summary>
    public int Width => X2 - X1;
}

/// <summary>
/// mmseg's sliding-window inference (<c>EncoderDecoder.slide_inference</c>, mmseg/models/segmentors/encoder_decoder.py;
/// docs/protocols.md §2.3): with crop (h_c, w_c) and stride (h_s, w_s) over an H×W image,
/// <code>
/// h_grids = max(H − h_c + h_s − 1, 0) // h_s + 1          (likewise w_grids)
/// cell (i, j): y1 = i·h_s, y2 = min(y1 + h_c, H), y1 = max(y2 − h_c, 0)   (likewise x)
/// out = Σ_windows pad(logits_window) / count,   count(p) = number of windows covering pixel p
/// </code>
/// so the last window is shifted back inside the image, windows overlap, and every pixel's output is the mean of the
/// raw outputs (logits for segmentation, before any softmax) of the windows that cover it. An image smaller than the
/// crop is one window of the image's own size (mmseg runs it as it is; a fixed-size backbone pads it, which is the
/// window function's concern).
/// </summary>
public static class SlideInference
{
    /// <summary>The windows over an <paramref name="height"/>×<paramref name="width"/> image, row by row.</summary>
    public static IReadOnlyList<SlideWindow> Windows(int height, int width, int cropHeight, int cropWidth, int strideHeight, int strideWidth)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"slide inference: image {height}×{width} is empty");
        if (cropHeight < 1 || cropWidth < 1) throw new ArgumentException($"slide inference: crop {cropHeight}×{cropWidth} must be positive (probe.crop_size)");
        if (strideHeight < 1 || strideWidth < 1) throw new ArgumentException($"slide inference: stride {strideHeight}×{strideWidth} must be positive (probe.stride)");
        if (strideHeight > cropHeight || strideWidth > cropWidth)
            throw new ArgumentException($"slide inference: stride {strideHeight}×{strideWidth} exceeds the crop {cropHeight}×{cropWidth}, which would leave pixels uncovered (probe.stride ≤ probe.crop_size)");
        var hGrids = Math.Max(height - cropHeight + strideHeight - 1, 0) / strideHeight + 1;
        var wGrids = Math.Max(width - cropWidth + strideWidth - 1, 0) / strideWidth + 1;
        var windows = new List<SlideWindow>(hGrids * wGrids);
        for (var i = 0; i < hGrids; i++)
            for (var j = 0; j < wGrids; j++)
            {
                var y2 = Math.Min(i * strideHeight + cropHeight, height);
                var x2 = Math.Min(j * strideWidth + cropWidth, width);
                windows.Add(new SlideWindow(Math.Max(y2 - cropHeight, 0), y2, Math.Max(x2 - cropWidth, 0), x2));
            }
        return windows;
    }

    /// <summary>
    /// Runs <paramref name="window"/> on every window of <paramref name="image"/> [B, C_in, H, W] and returns the
    /// count-normalised sum [B, C_out, H, W] of its outputs. <paramref name="window"/> gets the crop [B, C_in, h, w] and must
    /// return [B, C_out, h, w] (the same h, w).
    /// </summary>
    public static Tensor Run(Tensor image, int crop, int stride, Func<Tensor, Tensor> window)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(window);
        if (image.Dim != 4) throw new ArgumentException($"slide inference: expected an image batch [B, C, H, W], got {image.Describe()}");
        using var s = Scope.Enter();
        int h = (int)image.Size(2), w = (int)image.Size(3);
        Tensor? sum = null;
        var count = Torch.Torch.Zeros([1, 1, h, w], device: image.Device);
        foreach (var win in Windows(h, w, crop, crop, stride, stride))
        {
            using var ws = Scope.Enter(); // one window's tensors freed before the next (a canvas per window would not fit at large scales)
            var part = image.Slice(2, win.Y1, win.Y2).Slice(3, win.X1, win.X2);
            var output = window(part);
            if (output.Dim != 4 || output.Size(0) != image.Size(0) || output.Size(2) != win.Height || output.Size(3) != win.Width)
                throw new InvalidOperationException($"slide inference: the window function returned {output.Describe()} for a crop {part.Describe()}; expected [B, C, {win.Height}, {win.Width}]");
            // mmseg adds F.pad(output) onto the canvas: zeros outside the window, so only covering windows count. Adding the
            // output into the window's slice of one zero canvas gives the same sums without a canvas-sized pad per window.
            sum ??= ws.MoveOut(Torch.Torch.Zeros([output.Size(0), output.Size(1), h, w], output.DType, output.Device));
            sum.Slice(2, win.Y1, win.Y2).Slice(3, win.X1, win.X2).Add_(output);
            count.Slice(2, win.Y1, win.Y2).Slice(3, win.X1, win.X2).Add_(1.0);
        }
        return s.MoveOut(sum!.Div(count));
    }
}
