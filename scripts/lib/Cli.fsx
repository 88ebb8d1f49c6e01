/// Runs the `reproduce` CLI for the paper scripts. Every run gets its own directory
/// `<results>/<profile>/<paper>/runs/<name>-s<seed>-<hash>`, the hash taken over the command and its arguments
/// (config file contents included), so re-running a script skips finished runs (final.json present), resumes
/// unfinished ones, and a changed configuration lands in a new directory instead of reusing a stale one.
module Cli

#load "Args.fsx" "DataRoots.fsx" "Weights.fsx" "Bands.fsx" "Boundary.fsx"

open System
open System.Diagnostics
open System.IO
open System.Security.Cryptography
open System.Text
open System.Text.Json.Nodes

/// One paper script's session: its arguments, where its runs go, and (in plan mode) what it would run.
type Ctx =
    { Args: Args.Args
      /// "token-labeling" | "sta-anf" | "specialization" | "combined".
      Paper: string
      /// `<results>/<profile>/<paper>`.
      PaperDir: string
      RunsDir: string
      /// Full profile without --execute: print each command instead of running it.
      Plan: bool
      Planned: ResizeArray<string>
      Missing: ResizeArray<string>
      /// Wall seconds of the runs executed in this session.
      Executed: ResizeArray<string * float> }

let context (args: Args.Args) (paper: string) : Ctx =
    let dir = Path.Combine(args.ResultsRoot, Args.Profile.name args.Profile, paper)
    { Args = args
      Paper = paper
      PaperDir = dir
      RunsDir = Path.Combine(dir, "runs")
      Plan = args.Profile = Args.Full && not args.Execute
      Planned = ResizeArray()
      Missing = ResizeArray()
      Executed = ResizeArray() }

/// Re-runs a finished run into a scratch directory (see `recreate`); reference equality, so RunResult keeps `=`.
[<AllowNullLiteral>]
type Recreator(run: string -> int option -> unit) =
    /// Runs the run's command with `scratch` as its run directory, on `threads` CPU threads (None: the session's).
    member _.Into(scratch: string, threads: int option) = run scratch threads

/// What one run produced. `Metrics` holds final.json's numbers, `Texts` its strings and booleans.
type RunResult =
    { Name: string
      Seed: int
      /// Absolute run directory.
      Dir: string
      /// Run directory relative to the results root (what measured.json records).
      RelDir: string
      Metrics: Map<string, float>
      Texts: Map<string, string>
      /// The run's main artifact besides final.json, where it has one (annotate: the token-label store;
      /// analyze: the analysis JSON; a train_backbone probe: backbone.safetensors).
      Output: string option
      /// Finished earlier: read from disk, not run now.
      Skipped: bool
      /// Plan mode: not run, Metrics empty.
      Planned: bool
      /// Wall seconds of this session's execution (0 when skipped or planned).
      Seconds: float
      /// Repeats the run's command into another directory (used to re-create gitignored artifacts).
      Recreate: Recreator }

/// A CLI run that exited with an error: the command, the exit code, and the CLI's `error: …` text.
exception RunFailed of command: string * exitCode: int * message: string

/// Exit code of a configuration the engine refuses (`reproduce train`: bad key or value, unsupported combination).
/// Deterministic for a given config and engine, so it is recorded as the run's outcome (see `refusedFile`).
[<Literal>]
let RefusedExitCode = 3

/// One line for a failure that ends a script (Boundary.run): what failed and what to do.
let describeFailure (e: exn) =
    match e with
    | RunFailed(command, code, message) ->
        sprintf "`%s` exited with %d: %s (the output above has the details; finished runs are kept, so re-running the script continues from here)"
            command code message
    | :? AggregateException as a when a.InnerExceptions.Count = 1 -> a.InnerExceptions[0].Message
    | e -> e.Message

/// Runs `f` inside the scripts' failure boundary (Boundary.run with describeFailure).
let guard (f: unit -> 'T) : 'T = Boundary.run describeFailure f

/// Metric `key` of a run's final.json; NaN for a planned run; a clear error when the key is absent.
let metric (key: string) (r: RunResult) : float =
    if r.Planned then nan
    else
        match r.Metrics.TryFind key with
        | Some v -> v
        | None ->
            failwithf "run '%s' has no metric '%s' in final.json (it has: %s)" r.RelDir key (String.Join(", ", r.Metrics.Keys))

// ---- processes ----------------------------------------------------------------------------------------

let private dll = Path.Combine(Args.repoRoot, "src", "Reproduce.Cli", "bin", "Release", "net10.0", "reproduce.dll")
let mutable private built = false

/// Makes sure the CLI is built and current: the first call goes through the `./reproduce` launcher, which rebuilds
/// when sources are newer; later calls start the dll directly (measured: 0.68 s vs 0.80 s per call).
let private ensureBuilt () =
    if not built then
        let psi = ProcessStartInfo(Path.Combine(Args.repoRoot, "reproduce"), "models --name resnet_tiny_fm28", WorkingDirectory = Args.repoRoot,
                                   UseShellExecute = false, RedirectStandardOutput = true)
        use p = Process.Start psi
        p.StandardOutput.ReadToEnd() |> ignore
        p.WaitForExit()
        if p.ExitCode <> 0 || not (File.Exists dll) then
            failwithf "building the reproduce CLI failed (./reproduce exited with %d): run `dotnet fsi build.fsx build` to see why" p.ExitCode
        built <- true

let private quote (a: string) = if a = "" || a |> Seq.exists (fun c -> Char.IsWhiteSpace c || c = '"' || c = '\'') then "'" + a.Replace("'", "'\\''") + "'" else a
let commandLine (args: string list) = String.Join(" ", "reproduce" :: (args |> List.map quote))

/// Runs `reproduce <args>` in the repository root, echoing its output with a `[label]` prefix when `echo`.
/// Returns stdout; a non-zero exit raises RunFailed with the CLI's error lines.
let private execWith (echo: bool) (ctx: Ctx) (label: string) (args: string list) : string =
    ensureBuilt ()
    let psi = ProcessStartInfo("dotnet", WorkingDirectory = Args.repoRoot, UseShellExecute = false,
                               RedirectStandardOutput = true, RedirectStandardError = true)
    psi.ArgumentList.Add dll
    for a in args do psi.ArgumentList.Add a
    ctx.Args.Threads |> Option.iter (fun n -> psi.Environment["REPRODUCE_THREADS"] <- string n)
    let out = StringBuilder()
    let err = ResizeArray<string>()
    use p = new Process(StartInfo = psi)
    p.OutputDataReceived.Add(fun e ->
        if not (isNull e.Data) then
            lock out (fun () -> out.AppendLine e.Data |> ignore)
            if echo then printfn "  [%s] %s" label e.Data)
    p.ErrorDataReceived.Add(fun e ->
        if not (isNull e.Data) then
            lock err (fun () -> err.Add e.Data)
            if echo then eprintfn "  [%s] %s" label e.Data)
    p.Start() |> ignore
    p.BeginOutputReadLine()
    p.BeginErrorReadLine()
    p.WaitForExit()
    if p.ExitCode <> 0 then
        let errors = err |> Seq.filter (fun l -> l.StartsWith "error:") |> List.ofSeq
        let message = String.Join("\n", (if errors.IsEmpty then err |> Seq.rev |> Seq.truncate 5 |> Seq.rev |> List.ofSeq else errors))
        raise (RunFailed(commandLine args, p.ExitCode, message))
    out.ToString()

/// Runs `reproduce <args>`, echoing its output with a `[label]` prefix; see execWith.
let exec (ctx: Ctx) (label: string) (args: string list) : string = execWith true ctx label args

/// Writes `text` to `path` through a temporary file and a rename, so an interrupted script leaves no half-written file.
let private writeAtomic (path: string) (text: string) =
    let tmp = path + ".tmp"
    File.WriteAllText(tmp, text)
    File.Move(tmp, path, true)

// ---- run directories --------------------------------------------------------------------------------

/// Paths inside the repository are passed relative to it, so run hashes do not depend on where the checkout lives.
let repoPath (p: string) =
    let full = Path.GetFullPath p
    let rel = Path.GetRelativePath(Args.repoRoot, full)
    if rel.StartsWith ".." || Path.IsPathRooted rel then full else rel

/// First 8 hex digits of SHA-256 over the command, its arguments and the contents of the files they name.
let argsHash (kind: string) (args: string list) (files: string list) =
    let text =
        String.Join("\n", kind :: args)
        + String.Join("", files |> List.map (fun f -> "\n--file " + f + "\n" + File.ReadAllText(Path.Combine(Args.repoRoot, f))))
    Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes text)).ToLowerInvariant().Substring(0, 8)

let private readFinal (file: string) : Map<string, float> * Map<string, string> =
    let o =
        match (try JsonNode.Parse(File.ReadAllText file) with e -> failwithf "'%s' is not valid JSON: %s" file e.Message) with
        | :? JsonObject as o -> o
        | _ -> failwithf "'%s' does not hold a JSON object" file
    let mutable nums, texts = Map.empty, Map.empty
    for kv in o do
        match kv.Value with
        | :? JsonValue as v ->
            match v.GetValueKind() with
            | Text.Json.JsonValueKind.Number -> nums <- nums.Add(kv.Key, v.GetValue<float>())
            | Text.Json.JsonValueKind.String -> texts <- texts.Add(kv.Key, v.GetValue<string>())
            | Text.Json.JsonValueKind.True | Text.Json.JsonValueKind.False -> texts <- texts.Add(kv.Key, string (v.GetValue<bool>()))
            | _ -> ()
        | _ -> () // nulls (NaN) and arrays (per-class IoU) stay in the file
    nums, texts

let private isFinished (dir: string) = File.Exists(Path.Combine(dir, "final.json"))

let private pendingLock = obj ()

// ---- what decides a run's numerics besides its arguments ---------------------------------------------------

/// Beside final.json: the thread count, CPU and libtorch a run executed with (`reproduce info --json` plus the
/// threads the script gave it). Re-creating the run's artifacts uses the same thread count.
let runtimeFile = "runtime.json"

let mutable private machine: JsonObject option = None

let private writeRuntime (ctx: Ctx) (dir: string) =
    if Directory.Exists dir then
        let info =
            lock pendingLock (fun () ->
                match machine with
                | Some m -> m
                | None ->
                    let out = execWith false ctx "info" [ "info"; "--json" ]
                    let m = JsonNode.Parse(out.Trim().Split('\n') |> Array.last).AsObject()
                    machine <- Some m
                    m)
        let o = JsonObject()
        o["threads"] <- JsonValue.Create(defaultArg ctx.Args.Threads Environment.ProcessorCount)
        for key in [ "processors"; "cpu"; "libtorch"; "cuda_build" ] do
            match info[key] with
            | null -> ()
            | v -> o[key] <- v.DeepClone()
        writeAtomic (Path.Combine(dir, runtimeFile)) (o.ToJsonString(Text.Json.JsonSerializerOptions(WriteIndented = true)) + "\n")

/// The thread count recorded in a run's runtime.json (None for runs made before it was recorded).
let private recordedThreads (dir: string) =
    let f = Path.Combine(dir, runtimeFile)
    if not (File.Exists f) then None
    else
        match JsonNode.Parse(File.ReadAllText f) with
        | :? JsonObject as o ->
            match o["threads"] with
            | :? JsonValue as v when v.GetValueKind() = Text.Json.JsonValueKind.Number -> Some(v.GetValue<int>())
            | _ -> None
        | _ -> None

// ---- refusals --------------------------------------------------------------------------------------------

/// A run the engine refused records `refused.json` ({command, error}) instead of final.json: a refusal is a result,
/// kept under the run's hash like any other, so a changed configuration gets a new directory and is tried afresh.
let refusedFile = "refused.json"

let private readRefusal (dir: string) =
    let o = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, refusedFile))).AsObject()
    o["error"].GetValue<string>()

let private writeRefusal (dir: string) (args: string list) (message: string) =
    Directory.CreateDirectory dir |> ignore
    let o = JsonObject()
    o["command"] <- JsonArray(args |> List.map (fun a -> JsonValue.Create a :> JsonNode) |> Array.ofList)
    o["error"] <- JsonValue.Create message
    writeAtomic (Path.Combine(dir, refusedFile)) (o.ToJsonString(Text.Json.JsonSerializerOptions(WriteIndented = true, Encoder = Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)) + "\n")

// ---- gitignored artifacts --------------------------------------------------------------------------------

/// Artifacts (repo paths) that committed results name but a fresh clone lacks — checkpoints, weights, token-label
/// stores and trained backbones are gitignored — with the action that re-creates each. They are re-created only
/// when a run that must execute names one in its arguments, so a re-run over complete results stays cheap.
let private pending = Collections.Concurrent.ConcurrentDictionary<string, Lazy<unit>>()

/// Numbers of a final.json that a repetition should reproduce (wall-clock fields excluded).
let private reproducible (file: string) =
    let nums, _ = readFinal file
    nums |> Map.filter (fun k _ -> not (k.Contains "second" || k.Contains "img_s" || k.Contains "time"))

/// Repeats finished run `r` into a scratch directory with the thread count it was made with, then moves `entries`
/// (files or directories) into the run's own directory. A repetition need not be bit-identical (another CPU or BLAS
/// kernel reorders reductions): numbers that differ are reported in one warning line, saying whether they stay
/// within the regression bands (lib/Bands.fsx). The committed final.json is kept either way.
let recreate (r: RunResult) (entries: string list) =
    let scratch = Path.Combine(Args.repoRoot, ".cache", "recreate", r.RelDir)
    if Directory.Exists scratch then Directory.Delete(scratch, true)
    Directory.CreateDirectory(Path.GetDirectoryName scratch) |> ignore
    let threads = recordedThreads r.Dir
    printfn "[%s] re-creating %s (gitignored, absent here) by repeating the run%s" r.Name (String.Join(", ", entries))
        (match threads with Some n -> sprintf " on %d thread(s), as recorded" n | None -> "")
    r.Recreate.Into(scratch, threads)
    let committed, again = reproducible (Path.Combine(r.Dir, "final.json")), reproducible (Path.Combine(scratch, "final.json"))
    let moved =
        [ for KeyValue(k, v) in committed do
              match again.TryFind k with
              | Some w when w = v -> ()
              | Some w -> yield k, v, Some w
              | None -> yield k, v, None ]
    if not moved.IsEmpty then
        let inBand = moved |> List.forall (fun (k, v, w) -> w |> Option.exists (Bands.within k v))
        let text =
            moved
            |> List.map (fun (k, v, w) ->
                match w with
                | Some w -> sprintf "%s %g (committed %g, band ±%g)" k w v (Bands.toleranceFor k v)
                | None -> sprintf "%s missing (committed %g)" k v)
        if inBand then
            printfn "[%s] warning: the repetition differs from %s within the regression bands (%s); its %s are used"
                r.Name r.RelDir (String.Join("; ", text)) (String.Join(", ", entries))
        else
            printfn "[%s] warning: the repetition differs from %s beyond the regression bands (%s); its %s are used, and runs that consumed the original stay as committed (delete %s and its dependents' run directories to re-run them)"
                r.Name r.RelDir (String.Join("; ", text)) (String.Join(", ", entries)) r.RelDir
    for e in entries do
        let source, target = Path.Combine(scratch, e), Path.Combine(r.Dir, e)
        if Directory.Exists source then
            if Directory.Exists target then Directory.Delete(target, true)
            Directory.Move(source, target)
        elif File.Exists source then File.Move(source, target, true)
        else failwithf "repeating %s did not produce %s, so the runs that need it cannot run; delete %s to re-run it from scratch" r.RelDir e r.RelDir
    Directory.Delete(scratch, true)

/// Registers how to re-create a missing artifact (repo path) of a finished run.
let private whenMissing (artifact: string) (create: unit -> unit) =
    pending.TryAdd(repoPath artifact, lazy (create ())) |> ignore

/// Re-creates the missing artifacts that `args` name (e.g. `--weights W`, `token_label.source=S`) before they run.
let private ensureArtifacts (args: string list) =
    for KeyValue(artifact, create) in List.ofSeq pending do
        if args |> List.exists (fun a -> a = artifact || a.EndsWith("=" + artifact)) then create.Force()

// ---- one run --------------------------------------------------------------------------------------------

/// The generic run: directory from (name, seed, hash of args); skipped when final.json exists, a recorded refusal
/// when refused.json does, planned in plan mode, else `body ctx dir` runs the CLI. `check`, where the command has
/// one, re-asks the engine about a recorded refusal without running (and without the artifacts the run would
/// need), so an engine that now accepts the configuration runs it. `extraFiles` are files (repo-relative) whose
/// contents enter the hash.
let private runIn (ctx: Ctx) (kind: string) (name: string) (seed: int option) (args: string list) (extraFiles: string list)
                  (output: string -> string option) (check: (Ctx -> unit) option) (body: Ctx -> string -> unit) : RunResult =
    guard (fun () ->
        let hash = argsHash kind args extraFiles
        let dirName = match seed with Some s -> sprintf "%s-s%d-%s" name s hash | None -> sprintf "%s-%s" name hash
        let dir = Path.Combine(ctx.RunsDir, dirName)
        let rel = Path.GetRelativePath(ctx.Args.ResultsRoot, dir)
        let recreator =
            Recreator(fun scratch threads ->
                let c = match threads with Some n -> { ctx with Args = { ctx.Args with Threads = Some n } } | None -> ctx
                ensureArtifacts args
                body c scratch)
        let result metrics texts skipped planned seconds =
            { Name = name; Seed = defaultArg seed 0; Dir = dir; RelDir = rel; Metrics = metrics; Texts = texts
              Output = output dir; Skipped = skipped; Planned = planned; Seconds = seconds; Recreate = recreator }
        let refusedNow () =
            // Still refused with the same words: the record stands. Accepted now: the record goes and the run executes.
            match check with
            | None -> Some(readRefusal dir)
            | Some ask ->
                try
                    ask ctx
                    File.Delete(Path.Combine(dir, refusedFile))
                    if Directory.GetFileSystemEntries dir |> Array.isEmpty then Directory.Delete dir
                    printfn "[%s] refused earlier, accepted by the engine now: running it" name
                    None
                with RunFailed(_, code, message) when code = RefusedExitCode ->
                    let message = message.Replace("error: ", "")
                    if message <> readRefusal dir then writeRefusal dir args message
                    Some message
        if isFinished dir then
            let m, t = readFinal (Path.Combine(dir, "final.json"))
            printfn "[%s] finished earlier: %s" name rel
            let r = result m t true false 0.0
            // Outputs other runs consume (token-label store, trained backbone) are gitignored: re-create on demand.
            match r.Output with
            | Some o when not (File.Exists(Path.Combine(Args.repoRoot, o)) || Directory.Exists(Path.Combine(Args.repoRoot, o))) ->
                whenMissing o (fun () -> recreate r [ Path.GetRelativePath(dir, Path.Combine(Args.repoRoot, o)) ])
            | _ -> ()
            r
        else
            match (if File.Exists(Path.Combine(dir, refusedFile)) then refusedNow () else None) with
            | Some message ->
                printfn "[%s] refused earlier: %s (%s)" name rel message
                raise (RunFailed(commandLine args, RefusedExitCode, message))
            | None when ctx.Plan ->
                lock ctx.Planned (fun () -> ctx.Planned.Add(sprintf "%s  # → %s" (commandLine args) rel))
                result Map.empty Map.empty false true 0.0
            | None ->
                printfn "[%s] %s" name (commandLine args)
                ensureArtifacts args
                let clock = Stopwatch.StartNew()
                try
                    body ctx dir
                with
                | RunFailed(_, code, message) when code = RefusedExitCode ->
                    // The engine refused the configuration before starting: record it, so it is not tried again.
                    if Directory.Exists dir then Directory.Delete(dir, true)
                    writeRefusal dir args (message.Replace("error: ", ""))
                    reraise ()
                | RunFailed _ when Directory.Exists dir && not (Directory.Exists(Path.Combine(dir, "checkpoints"))) ->
                    // Failed before its first checkpoint: nothing to resume, so results/ keeps only real runs.
                    Directory.Delete(dir, true)
                    reraise ()
                let seconds = clock.Elapsed.TotalSeconds
                lock ctx.Executed (fun () -> ctx.Executed.Add(rel, seconds))
                if not (isFinished dir) then failwithf "'%s' finished without writing final.json in %s" (commandLine args) rel
                writeRuntime ctx dir
                let m, t = readFinal (Path.Combine(dir, "final.json"))
                printfn "[%s] done in %.1f s" name seconds
                result m t false false seconds)

// ---- commands -------------------------------------------------------------------------------------------

/// A training (or probe) configuration: a readable name (letters, digits, '.', '_', '-'), an optional config
/// file (repo-relative or absolute; its contents enter the hash) and `key=value` overrides in order.
type Spec = { Name: string; Config: string option; Sets: string list }

let spec (name: string) (sets: string list) = { Name = name; Config = None; Sets = sets }
let withConfig (file: string) (s: Spec) = { s with Config = Some(repoPath file) }
let withSets (sets: string list) (s: Spec) = { s with Sets = s.Sets @ sets }

let private configArgs (s: Spec) = s.Config |> Option.map (fun c -> [ "--config"; c ]) |> Option.defaultValue []
let private setArgs (sets: string list) = sets |> List.collect (fun kv -> [ "--set"; kv ])

/// `reproduce train`: resumes an unfinished run from its last checkpoint (--resume), skips a finished one.
/// The profile and name are set in the config so config.json records them.
let train (ctx: Ctx) (s: Spec) (seed: int) : RunResult =
    let sets = [ sprintf "profile=%s" (Args.Profile.name ctx.Args.Profile); sprintf "name=%s" s.Name ] @ s.Sets
    let args = [ "train" ] @ configArgs s @ setArgs sets @ [ "--seed"; string seed ]
    let check (c: Ctx) = execWith false c s.Name (args @ [ "--check" ]) |> ignore
    runIn ctx "train" s.Name (Some seed) args (Option.toList s.Config) (fun _ -> None) (Some check) (fun c dir ->
        exec c s.Name (args @ [ "--out"; repoPath dir; "--resume"; "--log-every"; "50" ]) |> ignore)

/// Runs `f`, turning a CLI error into Error "<the CLI's message>" (without its `error: ` prefix), for rows the
/// engine cannot produce: the reason then comes from the engine itself.
let attempt (f: unit -> 'T) : Result<'T, string> =
    Boundary.nested (fun () ->
        try Ok(f ()) with RunFailed(_, code, message) when code = RefusedExitCode -> Error(message.Replace("error: ", "")))

/// `reproduce eval --from <train run>`: top-1/top-5 of its best or last checkpoint, optionally the EMA weights
/// and with config overrides (e.g. data.eval_limit).
let eval (ctx: Ctx) (from: RunResult) (checkpoint: string) (ema: bool) (sets: string list) : RunResult =
    let name = sprintf "%s-eval-%s%s" from.Name checkpoint (if ema then "-ema" else "")
    let args = [ "eval"; "--from"; repoPath from.Dir; "--checkpoint"; checkpoint ] @ (if ema then [ "--ema" ] else []) @ setArgs sets
    runIn ctx "eval" name (Some from.Seed) args [] (fun _ -> None) None (fun c dir -> exec c name (args @ [ "--out"; repoPath dir ]) |> ignore)

/// The plain model weights (timm keys) of a train run's best or last checkpoint, extracted once into
/// `<run>/weights-<which>.safetensors` (gitignored with the checkpoints).
let weights (r: RunResult) (which: string) : string =
    let target = Path.Combine(r.Dir, sprintf "weights-%s.safetensors" which)
    if r.Planned then target
    else guard <| fun () ->
            let extract () =
                let source = Path.Combine(Weights.checkpointDir r.Dir which, "state.safetensors")
                Weights.extract source "model." target |> ignore
            if not (File.Exists target) then
                if Directory.Exists(Path.Combine(r.Dir, "checkpoints")) then extract ()
                else whenMissing target (fun () -> recreate r [ "checkpoints" ]; extract ())
            repoPath target

/// Arguments of `reproduce annotate` (the token-label store of a teacher over a dataset).
type AnnotateSpec =
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
/// (images annotated, seconds), so it is cached like any other run.
let annotate (ctx: Ctx) (a: AnnotateSpec) : RunResult =
    let args =
        [ "annotate"; "--model"; a.Model; "--weights"; repoPath a.Weights; "--data"; a.Data; "--split"; a.Split
          "--resolution"; string a.Resolution; "--topk"; string a.TopK ]
        @ (a.Root |> Option.map (fun r -> [ "--root"; r ]) |> Option.defaultValue [])
        @ (a.Limit |> Option.map (fun n -> [ "--limit"; string n ]) |> Option.defaultValue [])
        @ (a.Batch |> Option.map (fun n -> [ "--batch"; string n ]) |> Option.defaultValue [])
    let store (dir: string) = Path.Combine(dir, "store")
    runIn ctx "annotate" a.Name None args [] (store >> repoPath >> Some) None (fun c dir ->
        Directory.CreateDirectory dir |> ignore
        let config = JsonObject()
        config["command"] <- JsonArray(args |> List.map (fun s -> JsonValue.Create s :> JsonNode) |> Array.ofList)
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(Text.Json.JsonSerializerOptions(WriteIndented = true)))
        let clock = Stopwatch.StartNew()
        let out = exec c a.Name (args @ [ "--out"; repoPath (store dir) ])
        let m = Text.RegularExpressions.Regex.Match(out, @"score maps of (\d+) images")
        let final = JsonObject()
        final["images"] <- JsonValue.Create(if m.Success then int m.Groups[1].Value else -1)
        final["topk"] <- JsonValue.Create a.TopK
        final["seconds"] <- JsonValue.Create clock.Elapsed.TotalSeconds
        writeAtomic (Path.Combine(dir, "final.json")) (final.ToJsonString()))

let private probe (task: string) (ctx: Ctx) (s: Spec) (seed: int) : RunResult =
    let sets = [ sprintf "profile=%s" (Args.Profile.name ctx.Args.Profile); sprintf "name=%s" s.Name ] @ s.Sets
    let args = [ "probe"; task ] @ configArgs s @ setArgs sets @ [ "--seed"; string seed ]
    let backbone (dir: string) =
        let f = Path.Combine(dir, "backbone.safetensors")
        if File.Exists f then Some(repoPath f) else None
    runIn ctx ("probe-" + task) s.Name (Some seed) args (Option.toList s.Config) backbone None (fun c dir ->
        exec c s.Name (args @ [ "--out"; repoPath dir ]) |> ignore)

/// `reproduce probe seg` (linear segmentation probe; mIoU, aAcc, mAcc). Backbone via `model.name` /
/// `model.weights` sets; `probe.train_backbone=true` also trains the backbone (Output = backbone.safetensors).
let probeSeg ctx s seed = probe "seg" ctx s seed

/// `reproduce probe depth` (linear depth probe; abs_rel, rmse, d1, …).
let probeDepth ctx s seed = probe "depth" ctx s seed

/// Arguments of `reproduce analyze` (per-block [CLS]/patch cosine similarity and token norms).
type AnalyzeSpec =
    { Name: string
      Model: string
      Weights: string option
      /// Model option overrides, key=value.
      Sets: string list
      Images: int
      Root: string option
      OutlierSigmas: float option }

/// `reproduce analyze` into `<run>/analysis.json` (Output); final.json records the top-level numbers of the analysis.
let analyze (ctx: Ctx) (a: AnalyzeSpec) : RunResult =
    let args =
        [ "analyze"; "--model"; a.Model ]
        @ (a.Weights |> Option.map (fun w -> [ "--weights"; repoPath w ]) |> Option.defaultValue [])
        @ setArgs a.Sets
        @ [ "--images"; string a.Images ]
        @ (a.Root |> Option.map (fun r -> [ "--root"; r ]) |> Option.defaultValue [])
        @ (a.OutlierSigmas |> Option.map (fun k -> [ "--outlier-sigmas"; string k ]) |> Option.defaultValue [])
    let file (dir: string) = Path.Combine(dir, "analysis.json")
    runIn ctx "analyze" a.Name None args [] (file >> repoPath >> Some) None (fun c dir ->
        Directory.CreateDirectory dir |> ignore
        exec c a.Name (args @ [ "--out"; repoPath (file dir) ]) |> ignore
        let analysis = JsonNode.Parse(File.ReadAllText(file dir)).AsObject()
        let final = JsonObject()
        for kv in analysis do
            match kv.Value with
            | :? JsonValue as v when v.GetValueKind() = Text.Json.JsonValueKind.Number -> final[kv.Key] <- v.DeepClone()
            | _ -> ()
        writeAtomic (Path.Combine(dir, "final.json")) (final.ToJsonString()))

/// `reproduce bench`: step time of a base model and its variants, measured side by side (the CLI alternates them
/// step by step). The CLI's JSON line goes to `<run>/bench.json` (Output); final.json records `base_step_ms`,
/// `base_img_s` and, per variant i (in order), `step_time_ratio_i` and `step_ms_i`. Timings are not reproducible:
/// the run is kept like any other (re-running skips it), and regress.fsx leaves "(measured)" rows out of baselines.
type BenchSpec =
    { Name: string
      Model: string
      /// Overrides of the base model, key=value.
      Sets: string list
      /// Each variant: further overrides, key=value.
      Variants: string list list
      Batch: int
      Steps: int
      Warmup: int
      Rounds: int
      Threads: int
      Device: string }

let bench (ctx: Ctx) (b: BenchSpec) : RunResult =
    let args =
        [ "bench"; "--model"; b.Model ]
        @ setArgs b.Sets
        @ (b.Variants |> List.collect (fun v -> [ "--variant"; String.Join(",", v) ]))
        @ [ "--batch"; string b.Batch; "--steps"; string b.Steps; "--warmup"; string b.Warmup; "--rounds"; string b.Rounds
            "--threads"; string b.Threads; "--device"; b.Device; "--json" ]
    let file (dir: string) = Path.Combine(dir, "bench.json")
    runIn ctx "bench" b.Name None args [] (file >> repoPath >> Some) None (fun c dir ->
        Directory.CreateDirectory dir |> ignore
        let stdout = exec c b.Name args
        let last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries) |> Array.last |> _.Trim()
        let result = JsonNode.Parse(last).AsObject()
        let write (name: string) (node: JsonNode) =
            writeAtomic (Path.Combine(dir, name)) (node.ToJsonString(Text.Json.JsonSerializerOptions(WriteIndented = true)))
        write "bench.json" (result :> JsonNode)
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

/// Runs independent pieces of work (each typically one or more CLI runs) `ctx.Args.Jobs` at a time, results in
/// input order. Each piece gets a context whose runs use cores/jobs threads, unless --threads was given. The first
/// failure is re-raised after the others finished (their finished runs stay cached).
let inParallel (ctx: Ctx) (work: (Ctx -> 'T) list) : 'T list =
    guard <| fun () ->
        ensureBuilt ()
        let jobs = max 1 (min ctx.Args.Jobs work.Length)
        let threads = ctx.Args.Threads |> Option.orElse (Some(max 1 (Environment.ProcessorCount / jobs)))
        let inner = { ctx with Args = { ctx.Args with Threads = threads } }
        use gate = new Threading.SemaphoreSlim(jobs)
        let tasks =
            work
            |> List.map (fun w ->
                Threading.Tasks.Task.Run(fun () ->
                    gate.Wait()
                    try (try Ok(w inner) with e -> Error e) finally gate.Release() |> ignore))
        let results = tasks |> List.map (fun t -> t.Result)
        results |> List.map (function Ok v -> v | Error e -> raise e)

/// Reads a run's JSON artifact (e.g. the analysis of `analyze`).
let readJson (path: string) : JsonNode =
    let full = if Path.IsPathRooted path then path else Path.Combine(Args.repoRoot, path)
    match JsonNode.Parse(File.ReadAllText full) with
    | null -> failwithf "'%s' is empty" full
    | n -> n

/// Parameters, analytic forward GFLOPs and default resolution of a registered model (with overrides).
type ModelInfo = { Name: string; Params: int64; Gflops: float; Resolution: int }

let private modelCache = Collections.Concurrent.ConcurrentDictionary<string, ModelInfo>()

/// `reproduce models --json --name NAME [--set k=v …]`, cached per (name, sets) for the session.
let modelInfo (ctx: Ctx) (name: string) (sets: string list) : ModelInfo =
    guard <| fun () ->
        let key = String.Join("\n", name :: sets)
        match modelCache.TryGetValue key with
        | true, m -> m
        | _ ->
            let out = execWith false ctx ("models " + name) ([ "models"; "--json"; "--name"; name ] @ setArgs sets)
            let start = out.IndexOf '['
            if start < 0 then failwithf "reproduce models --json printed no JSON array for '%s'" name
            let o = JsonNode.Parse(out.Substring start).AsArray()[0]
            let m =
                { Name = o["name"].GetValue<string>(); Params = o["params"].GetValue<int64>()
                  Gflops = o["gflops"].GetValue<float>(); Resolution = o["resolution"].GetValue<int>() }
            modelCache[key] <- m
            m

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
