using System.Text.Json.Nodes;

namespace Reproduce.Vision.Metrics;

/// <summary>JSON helpers shared by the metric results: JSON has no NaN or infinity, so those are written as null.</summary>
public static class MetricJson
{
    /// <summary>A JSON number, or null for NaN and ±∞.</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>A JSON array of numbers (non-finite entries as null).</summary>
    public static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(Number).ToArray());
}
