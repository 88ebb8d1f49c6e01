/// The CLI commands the paper scripts run, each a cached run (Runner.runIn): train, eval, weights, annotate,
/// probe seg|depth, analyze, bench, and the model registry's numbers (modelInfo). Every command's result is read
/// from its last stdout line (JSON) or the files it writes, never from its human-readable output.
module Commands

#load "Args.fsx" "Process.fsx" "RunDirs.fsx" "Artifacts.fsx" "Runner.fsx"

open System
open System.Diagnostics
open System.IO
open System.Text.Json.Nodes
open Process
open RunDirs
open Runner

/// The arguments of a `train` or `probe` run: a readable name (letters, digits, '.', '_', '-'), an optional config
/// file (repo-relative or absolute; its contents enter the hash) and config overrides `key=value`, in order
/// (passed as `--set key=value`).
type RunConfigArgs = { Name: string; Config: string option; Overrides: string list }

let runConfig (name: string) (overrides: string list) = { Name = name; Config = None; Overrides = overrides }
let withConfig (file: string) (c: RunConfigArgs) = { c with Config = Some(repoPath file) }
let withOverrides (overrides: string list) (c: RunConfigArgs) = { c with Overrides = c.Overrides @ overrides }

let private configArgs (c: RunConfigArgs) = c.Config |> Option.map (fun f -> [ "--config"; f ]) |> Option.defaultValue []
let private setArgs (overrides: string list) = overrides |> List.collect (fun kv -> [ "--set"; kv ])
let private indented = Text.Json.JsonSerializerOptions(WriteIndented = true)

/// `reproduce train`: resumes an unfinished run from its last checkpoint (--resume), skips a finished one.
/// The profile and name are set in the config so config.json records them.
let train (ctx: Ctx) (c: RunConfigArgs) (seed: int) : RunResult =
    let overrides = [ sprintf "profile=%s" (Args.Profile.name ctx.Args.Profile); sprintf "name=%s" c.Name ] @ c.Overrides
    let args = [ "train" ] @ configArgs c @ setArgs overrides @ [ "--seed"; string seed ]
    let check (x: Ctx) = Process.run false x.Args.Threads c.Name (args @ [ "--check" ]) |> ignore
    runIn ctx "train" c.Name (Some seed) args (Option.toList c.Config) (fun _ -> None) (Some check) (fun x dir ->
        exec x c.Name (args @ [ "--out"; repoPath dir; "--resume"; "--log-every"; "50" ]) |> ignore)

/// Runs `f`, turning a refusal (exit 3) into Error "<the CLI's message>" (without its `error: ` prefix), for rows
/// the engine cannot produce: the reason then comes from the engine itself.
let attempt (f: unit -> 'T) : Result<'T, string> =
    Boundary.nested (fun () ->
        try
            Ok(f ())
        with RunFailed(_, code, message) when code = RefusedExitCode ->
            Error(engineMessage message))

/// `reproduce eval --from <train run>`: top-1/top-5 of its best or last checkpoint, optionally the EMA weights
/// and with config overrides (e.g. data.eval_limit).
let eval (ctx: Ctx) (from: RunResult) (checkpoint: string) (ema: bool) (overrides: string list) : RunResult =
    let name = sprintf "%s-eval-%s%s" from.Name checkpoint (if ema then "-ema" else "")
    let args = [ "eval"; "--from"; repoPath from.Dir; "--checkpoint"; checkpoint ] @ (if ema then [ "--ema" ] else []) @ setArgs overrides
    runIn ctx "eval" name (Some from.Seed) args [] (fun _ -> None) None (fun x dir -> exec x name (args @ [ "--out"; repoPath dir ]) |> ignore)

/// The plain model weights (timm keys) of a train run's best or last checkpoint, extracted once by
/// `reproduce weights` into `<run>/weights-<which>.safetensors` (gitignored with the checkpoints, which are
/// re-created by repeating the run when absent).
let weights (r: RunResult) (which: string) : string =
    let target = Path.Combine(r.Dir, sprintf "weights-%s.safetensors" which)
    if r.Planned then
        target
    else
        guard
        <| fun () ->
            let extract () =
                let args = [ "weights"; "--from"; repoPath r.Dir; "--checkpoint"; which; "--out"; repoPath target ]
                let result = Process.run false None r.Name args |> lastJson args
                if result["tensors"].GetValue<int>() <= 0 then failwithf "`%s` wrote no tensor" (commandLine args)
            if not (File.Exists target) then
                if Directory.Exists(Path.Combine(r.Dir, "checkpoints")) then
                    extract ()
                else
                    Artifacts.whenMissing target (fun () ->
                        Artifacts.recreate r [ "checkpoints" ]
                        extract ())
            repoPath target

/// Arguments of `reproduce annotate` (the token-label store of a teacher over a dataset).
type AnnotateArgs =
    { Name: string
      Model: string
      Weights: string
      Data: string
      Root: string option
      Split: string
      Resolution: int
      TopK: int
      Limit: int option
      Batch: int option }

/// `reproduce annotate` into `<run>/store`; the run directory gets config.json (the arguments) and final.json
/// (images annotated, top-k, seconds), so it is cached like any other run.
let annotate (ctx: Ctx) (a: AnnotateArgs) : RunResult =
    let args =
        [ "annotate"
          "--model"
          a.Model
          "--weights"
          repoPath a.Weights
          "--data"
          a.Data
          "--split"
          a.Split
          "--resolution"
          string a.Resolution
          "--topk"
          string a.TopK ]
        @ (a.Root |> Option.map (fun r -> [ "--root"; r ]) |> Option.defaultValue [])
        @ (a.Limit |> Option.map (fun n -> [ "--limit"; string n ]) |> Option.defaultValue [])
        @ (a.Batch |> Option.map (fun n -> [ "--batch"; string n ]) |> Option.defaultValue [])
    let store (dir: string) = Path.Combine(dir, "store")
    runIn ctx "annotate" a.Name None args [] (store >> repoPath >> Some) None (fun x dir ->
        Directory.CreateDirectory dir |> ignore
        let config = JsonObject()
        config["command"] <- JsonArray(args |> List.map (fun s -> JsonValue.Create s :> JsonNode) |> Array.ofList)
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString indented)
        let clock = Stopwatch.StartNew()
        let full = args @ [ "--out"; repoPath (store dir) ]
        let result = exec x a.Name full |> lastJson full
        let final = JsonObject()
        final["images"] <- JsonValue.Create(result["images"].GetValue<int>())
        final["topk"] <- JsonValue.Create(result["topk"].GetValue<int>())
        final["seconds"] <- JsonValue.Create clock.Elapsed.TotalSeconds
        writeAtomic (Path.Combine(dir, "final.json")) (final.ToJsonString()))

let private probe (task: string) (ctx: Ctx) (c: RunConfigArgs) (seed: int) : RunResult =
    let overrides = [ sprintf "profile=%s" (Args.Profile.name ctx.Args.Profile); sprintf "name=%s" c.Name ] @ c.Overrides
    let args = [ "probe"; task ] @ configArgs c @ setArgs overrides @ [ "--seed"; string seed ]
    let backbone (dir: string) =
        let f = Path.Combine(dir, "backbone.safetensors")
        if File.Exists f then Some(repoPath f) else None
    runIn ctx ("probe-" + task) c.Name (Some seed) args (Option.toList c.Config) backbone None (fun x dir ->
        exec x c.Name (args @ [ "--out"; repoPath dir ]) |> ignore)

/// `reproduce probe seg` (linear segmentation probe; mIoU, aAcc, mAcc). Backbone via `model.name` /
/// `model.weights` overrides; `probe.train_backbone=true` also trains the backbone (Output = backbone.safetensors).
let probeSeg ctx c seed = probe "seg" ctx c seed

/// `reproduce probe depth` (linear depth probe; abs_rel, rmse, d1, …).
let probeDepth ctx c seed = probe "depth" ctx c seed

/// Arguments of `reproduce analyze` (per-block [CLS]/patch cosine similarity and token norms).
type AnalyzeArgs =
    {
        Name: string
        Model: string
        Weights: string option
        /// Model option overrides, key=value.
        Overrides: string list
        Images: int
        Root: string option
        OutlierSigmas: float option
    }

/// `reproduce analyze` into `<run>/analysis.json` (Output); final.json records the top-level numbers of the analysis.
let analyze (ctx: Ctx) (a: AnalyzeArgs) : RunResult =
    let args =
        [ "analyze"; "--model"; a.Model ]
        @ (a.Weights |> Option.map (fun w -> [ "--weights"; repoPath w ]) |> Option.defaultValue [])
        @ setArgs a.Overrides
        @ [ "--images"; string a.Images ]
        @ (a.Root |> Option.map (fun r -> [ "--root"; r ]) |> Option.defaultValue [])
        @ (a.OutlierSigmas |> Option.map (fun k -> [ "--outlier-sigmas"; string k ]) |> Option.defaultValue [])
    let file (dir: string) = Path.Combine(dir, "analysis.json")
    runIn ctx "analyze" a.Name None args [] (file >> repoPath >> Some) None (fun x dir ->
        Directory.CreateDirectory dir |> ignore
        exec x a.Name (args @ [ "--out"; repoPath (file dir) ]) |> ignore
        let analysis = JsonNode.Parse(File.ReadAllText(file dir)).AsObject()
        let final = JsonObject()
        for kv in analysis do
            match kv.Value with
            | :? JsonValue as v when v.GetValueKind() = Text.Json.JsonValueKind.Number -> final[kv.Key] <- v.DeepClone()
            | _ -> ()
        writeAtomic (Path.Combine(dir, "final.json")) (final.ToJsonString()))

/// Arguments of `reproduce bench` (step time of a base model and its variants, measured side by side).
type BenchArgs =
    {
        Name: string
        Model: string
        /// Overrides of the base model, key=value.
        Overrides: string list
        /// Each variant: further overrides, key=value.
        Variants: string list list
        Batch: int
        Steps: int
        Warmup: int
        Rounds: int
        Threads: int
        Device: string
    }

/// `reproduce bench` (the CLI alternates the models step by step). Its JSON line goes to `<run>/bench.json`
/// (Output); final.json records `base_step_ms`, `base_img_s` and, per variant i (in order), `step_time_ratio_i` and
/// `step_ms_i`. Timings are not reproducible: the run is kept like any other (re-running skips it), and
/// regress.fsx leaves "(measured)" rows out of baselines.
let bench (ctx: Ctx) (b: BenchArgs) : RunResult =
    let args =
        [ "bench"; "--model"; b.Model ]
        @ setArgs b.Overrides
        @ (b.Variants |> List.collect (fun v -> [ "--variant"; String.Join(",", v) ]))
        @ [ "--batch"
            string b.Batch
            "--steps"
            string b.Steps
            "--warmup"
            string b.Warmup
            "--rounds"
            string b.Rounds
            "--threads"
            string b.Threads
            "--device"
            b.Device
            "--json" ]
    let file (dir: string) = Path.Combine(dir, "bench.json")
    runIn ctx "bench" b.Name None args [] (file >> repoPath >> Some) None (fun x dir ->
        Directory.CreateDirectory dir |> ignore
        let result = exec x b.Name args |> lastJson args
        let write (name: string) (node: JsonNode) = writeAtomic (Path.Combine(dir, name)) (node.ToJsonString indented)
        write "bench.json" result
        let number (node: JsonNode) (key: string) = node[key].GetValue<float>()
        let baseModel = result["base"]
        let final = JsonObject()
        final["base_step_ms"] <- JsonValue.Create(number baseModel "step_ms")
        final["base_img_s"] <- JsonValue.Create(number baseModel "img_s")
        result["variants"].AsArray()
        |> Seq.iteri (fun i v ->
            final[sprintf "step_time_ratio_%d" i] <- JsonValue.Create(number v "step_time_ratio")
            final[sprintf "step_ms_%d" i] <- JsonValue.Create(number v "step_ms"))
        write "final.json" (final :> JsonNode))

/// Reads a run's JSON artifact (e.g. the analysis of `analyze`).
let readJson (path: string) : JsonNode =
    let full = if Path.IsPathRooted path then path else Path.Combine(Args.repoRoot, path)
    match JsonNode.Parse(File.ReadAllText full) with
    | null -> failwithf "'%s' is empty" full
    | n -> n

/// Parameters, analytic forward GFLOPs and default resolution of a registered model (with overrides).
type ModelInfo = { Name: string; Params: int64; Gflops: float; Resolution: int }

let private modelCache = Collections.Concurrent.ConcurrentDictionary<string, ModelInfo>()

/// `reproduce models --json --name NAME [--set k=v …]` (one JSON array on one line), cached per (name, overrides).
let modelInfo (ctx: Ctx) (name: string) (overrides: string list) : ModelInfo =
    guard
    <| fun () ->
        let key = String.Join("\n", name :: overrides)
        match modelCache.TryGetValue key with
        | true, m -> m
        | _ ->
            let args = [ "models"; "--json"; "--name"; name ] @ setArgs overrides
            let o = (Process.run false ctx.Args.Threads ("models " + name) args |> lastJson args).AsArray()[0]
            let m =
                { Name = o["name"].GetValue<string>()
                  Params = o["params"].GetValue<int64>()
                  Gflops = o["gflops"].GetValue<float>()
                  Resolution = o["resolution"].GetValue<int>() }
            modelCache[key] <- m
            m
