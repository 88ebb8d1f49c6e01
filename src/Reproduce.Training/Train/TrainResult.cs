using System.Text.Json.Nodes;
using Reproduce.Training.Runs;

namespace Reproduce.Training.Train;

/// <summary>What <see cref="Trainer.Run"/> did.</summary>
/// <param name="Run">The run directory.</param>
/// <param name="Final">The final metrics (final.json), or null when the run was stopped before finishing.</param>
/// <param name="Skipped">True when the run had already finished (same configuration hash) and nothing was trained.</param>
public sealed record TrainResult(RunDirectory Run, JsonObject? Final, bool Skipped);
