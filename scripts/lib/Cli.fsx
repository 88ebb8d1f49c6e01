/// The paper scripts' face of the `reproduce` CLI: one name for everything a script calls, defined in the files
/// that each hold one idea —
///   Process.fsx   running the CLI (the build step, RunFailed, exit codes, the last stdout line as JSON)
///   RunDirs.fsx   run directories: Ctx, RunResult, the hash, final.json, runtime.json, refused.json
///   Artifacts.fsx gitignored artifacts re-created on demand (within the regression bands, lib/Bands.fsx)
///   Runner.fsx    one cached run: skipped / refused / planned / executed
///   Commands.fsx  train, eval, weights, annotate, probe seg|depth, analyze, bench, modelInfo
///   Parallel.fsx  independent pieces side by side
/// Every entry point runs inside lib/Boundary.fsx (`guard`), so a failure ends a script in one line.
module Cli

#load "Args.fsx" "DataRoots.fsx" "Bands.fsx" "Boundary.fsx" "Process.fsx" "RunDirs.fsx" "Artifacts.fsx" "Runner.fsx" "Commands.fsx" "Parallel.fsx"

// ---- sessions and results (RunDirs.fsx) --------------------------------------------------------------------

type Ctx = RunDirs.Ctx
type RunResult = RunDirs.RunResult
let context args paper : Ctx = RunDirs.context args paper
/// Metric `key` of a run's final.json; NaN for a planned run; a clear error when the key is absent.
let metric key (r: RunResult) = RunDirs.metric key r
let repoPath p = RunDirs.repoPath p
let argsHash kind args files = RunDirs.argsHash kind args files
let refusedFile = RunDirs.refusedFile
let runtimeFile = RunDirs.runtimeFile

// ---- failures (Process.fsx) ----------------------------------------------------------------------------------

exception RunFailed = Process.RunFailed
/// 3: the engine refused the configuration.
[<Literal>]
let RefusedExitCode = Process.RefusedExitCode
let guard (f: unit -> 'T) : 'T = Process.guard f
let describeFailure e = Process.describeFailure e
/// A refusal (exit 3) becomes Error "<the engine's message>".
let attempt (f: unit -> 'T) : Result<'T, string> = Commands.attempt f
/// Repeats a finished run to re-create its gitignored `entries` (Artifacts.fsx).
let recreate r entries = Artifacts.recreate r entries

// ---- commands (Commands.fsx) ---------------------------------------------------------------------------------

type RunConfigArgs = Commands.RunConfigArgs
let runConfig name overrides : RunConfigArgs = Commands.runConfig name overrides
let withConfig file (c: RunConfigArgs) = Commands.withConfig file c
let withOverrides overrides (c: RunConfigArgs) = Commands.withOverrides overrides c
let train ctx c seed = Commands.train ctx c seed
let eval ctx from checkpoint ema overrides = Commands.eval ctx from checkpoint ema overrides
let weights r which = Commands.weights r which
type AnnotateArgs = Commands.AnnotateArgs
let annotate ctx a = Commands.annotate ctx a
let probeSeg ctx c seed = Commands.probeSeg ctx c seed
let probeDepth ctx c seed = Commands.probeDepth ctx c seed
type AnalyzeArgs = Commands.AnalyzeArgs
let analyze ctx a = Commands.analyze ctx a
type BenchArgs = Commands.BenchArgs
let bench ctx b = Commands.bench ctx b
let readJson path = Commands.readJson path
type ModelInfo = Commands.ModelInfo
let modelInfo ctx name overrides = Commands.modelInfo ctx name overrides

// ---- parallelism and data (Parallel.fsx, DataRoots.fsx) ------------------------------------------------------

let inParallel (ctx: Ctx) (work: (Ctx -> 'T) list) : 'T list = Parallel.inParallel ctx work

/// The roots of `datasets` for the full profile. Missing ones are recorded (printed by Results.finish) and come
/// back as None, so a plan still lists every command.
let needData (ctx: Ctx) (datasets: DataRoots.Dataset list) : Map<DataRoots.Dataset, string option> =
    datasets
    |> List.map (fun d ->
        match DataRoots.resolve ctx.Args d with
        | Ok root -> d, Some root
        | Error why ->
            lock ctx.Missing (fun () -> if not (ctx.Missing.Contains why) then ctx.Missing.Add why)
            d, None)
    |> Map.ofList
