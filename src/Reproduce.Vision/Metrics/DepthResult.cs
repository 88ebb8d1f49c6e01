using System.Text.Json.Nodes;

namespace Reproduce.Vision.Metrics;

/// <summary>
/// Depth scores from <see cref="DepthMetric"/>: each is the mean over images of that image's value (BTS
/// convention). δ thresholds are fractions in [0, 1]; silog is ×100.
/// </summary>
/// <param name="AbsRel">Mean absolute relative error.</param>
/// <param name="SqRel">Mean squared relative error.</param>
/// <param name="Rmse">Root mean squared error (metres).</param>
/// <param name="RmseLog">RMSE of natural logs.</param>
/// <param name="Log10">Mean absolute log10 error.</param>
/// <param name="Silog">Scale-invariant log error ×100.</param>
/// <param name="D1">δ &lt; 1.25.</param>
/// <param name="D2">δ &lt; 1.25².</param>
/// <param name="D3">δ &lt; 1.25³.</param>
/// <param name="Images">Images averaged.</param>
/// <param name="SkippedImages">Images without any valid pixel (not averaged).</param>
public sealed record DepthResult(double AbsRel, double SqRel, double Rmse, double RmseLog, double Log10, double Silog,
    double D1, double D2, double D3, long Images, long SkippedImages)
{
    /// <summary>
    /// The object <c>reproduce score depth</c> prints: <c>abs_rel</c>, <c>sq_rel</c>, <c>rmse</c>,
    /// <c>rmse_log</c>, <c>log10</c>, <c>silog</c>, <c>d1</c>, <c>d2</c>, <c>d3</c> (NaN written as null).
    /// </summary>
    public JsonObject ToJson() => new()
    {
        ["abs_rel"] = MetricJson.Number(AbsRel),
        ["sq_rel"] = MetricJson.Number(SqRel),
        ["rmse"] = MetricJson.Number(Rmse),
        ["rmse_log"] = MetricJson.Number(RmseLog),
        ["log10"] = MetricJson.Number(Log10),
        ["silog"] = MetricJson.Number(Silog),
        ["d1"] = MetricJson.Number(D1),
        ["d2"] = MetricJson.Number(D2),
        ["d3"] = MetricJson.Number(D3),
    };
}
