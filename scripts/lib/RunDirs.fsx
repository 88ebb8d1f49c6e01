/// Run directories of the paper scripts: `<results>/<profile>/<paper>/runs/<name>-s<seed>-<hash>`, the hash taken over
/// the command and its arguments (config file contents included), and the files a script keeps in one beside what
/// the CLI writes: final.json (read back), runtime.json (what decides the numerics besides the arguments) and
/// refused.json (a configuration the engine refused).
module RunDirs

#load "Args.fsx" "Process.fsx"

open System
open System.IO
open System.Security.Cryptography
open System.Text
open System.Text.Json.Nodes

/// One paper script's session: its arguments, where its runs go, and (in plan mode) what it would run.
type Ctx =
    {
        Args: Args.Args
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
        Executed: ResizeArray<string * float>
    }

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

/// Re-runs a finished run into a scratch directory (Artifacts.recreate); reference equality, so RunResult keeps `=`.
[<AllowNullLiteral>]
type Recreator(run: string -> int option -> unit) =
    /// Runs the run's command with `scratch` as its run directory, on `threads` CPU threads (None: the session's).
    member _.Into(scratch: string, threads: int option) = run scratch threads

/// What one run produced. `Metrics` holds final.json's numbers, `Texts` its strings and booleans.
type RunResult =
    {
        Name: string
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
        Recreate: Recreator
    }

/// Metric `key` of a run's final.json; NaN for a planned run; a clear error when the key is absent.
let metric (key: string) (r: RunResult) : float =
    if r.Planned then
        nan
    else
        match r.Metrics.TryFind key with
        | Some v -> v
        | None -> failwithf "run '%s' has no metric '%s' in final.json (it has: %s)" r.RelDir key (String.Join(", ", r.Metrics.Keys))

/// Runs `reproduce <args>` for `ctx` (its thread count), echoing the output with a `[label]` prefix.
let exec (ctx: Ctx) (label: string) (args: string list) : string = Process.run true ctx.Args.Threads label args

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

/// The JSON object a run file holds; a clear error naming the file when it holds something else.
let readObject (file: string) : JsonObject =
    match
        (try
            JsonNode.Parse(File.ReadAllText file)
         with e ->
             failwithf "'%s' is not valid JSON: %s" file e.Message)
    with
    | :? JsonObject as o -> o
    | _ -> failwithf "'%s' does not hold a JSON object" file

/// final.json's numbers and its strings/booleans (nulls and arrays stay in the file).
let readFinal (file: string) : Map<string, float> * Map<string, string> =
    let o = readObject file
    let mutable nums, texts = Map.empty, Map.empty
    for kv in o do
        match kv.Value with
        | :? JsonValue as v ->
            match v.GetValueKind() with
            | Text.Json.JsonValueKind.Number -> nums <- nums.Add(kv.Key, v.GetValue<float>())
            | Text.Json.JsonValueKind.String -> texts <- texts.Add(kv.Key, v.GetValue<string>())
            | Text.Json.JsonValueKind.True
            | Text.Json.JsonValueKind.False -> texts <- texts.Add(kv.Key, string (v.GetValue<bool>()))
            | _ -> ()
        | _ -> () // nulls (NaN) and arrays (per-class IoU) stay in the file
    nums, texts

let isFinished (dir: string) = File.Exists(Path.Combine(dir, "final.json"))

let private indented = Text.Json.JsonSerializerOptions(WriteIndented = true)

// ---- runtime.json: what decides a run's numerics besides its arguments ------------------------------------

/// Beside final.json: the thread count, CPU and libtorch a run executed with (`reproduce info --json` plus the
/// threads the script gave it). Re-creating the run's artifacts uses the same thread count.
let runtimeFile = "runtime.json"

let private machineLock = obj ()
let mutable private machine: JsonObject option = None

let writeRuntime (ctx: Ctx) (dir: string) =
    if Directory.Exists dir then
        let info =
            lock machineLock (fun () ->
                match machine with
                | Some m -> m
                | None ->
                    let args = [ "info"; "--json" ]
                    let m = (Process.run false ctx.Args.Threads "info" args |> Process.lastJson args).AsObject()
                    machine <- Some m
                    m)
        let o = JsonObject()
        o["threads"] <- JsonValue.Create(defaultArg ctx.Args.Threads Environment.ProcessorCount)
        for key in [ "processors"; "cpu"; "libtorch"; "cuda_build" ] do
            match info[key] with
            | null -> ()
            | v -> o[key] <- v.DeepClone()
        Process.writeAtomic (Path.Combine(dir, runtimeFile)) (o.ToJsonString indented + "\n")

/// The thread count recorded in a run's runtime.json (None for runs made before it was recorded).
let recordedThreads (dir: string) =
    let f = Path.Combine(dir, runtimeFile)
    if not (File.Exists f) then
        None
    else
        match (readObject f)["threads"] with
        | :? JsonValue as v when v.GetValueKind() = Text.Json.JsonValueKind.Number -> Some(v.GetValue<int>())
        | _ -> failwithf "'%s' has no numeric 'threads' (delete the file to re-create on the session's thread count)" f

// ---- refused.json: a configuration the engine refused ------------------------------------------------------

/// A run the engine refused records `refused.json` ({command, error}) instead of final.json: a refusal is a result,
/// kept under the run's hash like any other, so a changed configuration gets a new directory and is tried afresh.
let refusedFile = "refused.json"

let isRefused (dir: string) = File.Exists(Path.Combine(dir, refusedFile))

let readRefusal (dir: string) =
    let file = Path.Combine(dir, refusedFile)
    match (readObject file)["error"] with
    | :? JsonValue as v when v.GetValueKind() = Text.Json.JsonValueKind.String -> v.GetValue<string>()
    | _ -> failwithf "'%s' has no string 'error' (delete the file to try the run again)" file

let writeRefusal (dir: string) (args: string list) (message: string) =
    Directory.CreateDirectory dir |> ignore
    let o = JsonObject()
    o["command"] <- JsonArray(args |> List.map (fun a -> JsonValue.Create a :> JsonNode) |> Array.ofList)
    o["error"] <- JsonValue.Create message
    Process.writeAtomic
        (Path.Combine(dir, refusedFile))
        (o.ToJsonString(Text.Json.JsonSerializerOptions(WriteIndented = true, Encoder = Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)) + "\n")

/// Drops a refusal the engine no longer makes (and the directory, when nothing else is in it).
let clearRefusal (dir: string) =
    File.Delete(Path.Combine(dir, refusedFile))
    if Directory.GetFileSystemEntries dir |> Array.isEmpty then Directory.Delete dir
