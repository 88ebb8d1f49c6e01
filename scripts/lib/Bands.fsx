/// The regression bands: how far a re-measured number may move before it counts as a change. regress.fsx writes
/// them into results/baselines/<profile>.json; re-creating a gitignored artifact (Artifacts.fsx) accepts a repeated
/// run whose numbers stay inside them.
module Bands

/// Runs are deterministic for a given seed, thread count and libtorch build, but another CPU, thread count or BLAS
/// kernel changes reduction order and so a few of the evaluated images: accuracies get 2.5 points (12 of 500
/// images), differences of two runs 4 points; registry numbers (params, GFLOPs) are exact. Other metrics (mIoU,
/// depth errors, losses) get 5 % of the value, at least 2.5 % of a unit.
let toleranceFor (metric: string) (value: float) =
    let m = metric.ToLowerInvariant()
    if m.StartsWith "params" || m.StartsWith "gflops" then 0.005
    elif m.Contains "δ" || m.Contains "delta" then 4.0
    elif m.Contains "top-1" || m.Contains "top1" || m.Contains "acc" then 2.5
    else max 0.025 (0.05 * abs value)

/// Whether `got` is within the band of `expected` for `metric`.
let within (metric: string) (expected: float) (got: float) = System.Double.IsFinite got && abs (got - expected) <= toleranceFor metric expected
