/// Command-line arguments shared by every paper script:
/// `dotnet fsi scripts/<name>.fsx [--profile smoke|quick|full|released] [--seeds N] [--results DIR] [--threads N]
/// [--data-config FILE] [--execute]`.
module Args

open System
open System.IO

/// How much compute a script spends (docs/architecture.md "Scripts and profiles"): smoke = seconds per run (tests, regression check),
/// quick = every table in miniature on the embedded data on 2 CPU cores, full = the papers' settings on real data,
/// released = the published checkpoints evaluated and analysed on real data (lib/Released.fsx).
type Profile =
    | Smoke
    | Quick
    | Full
    | Released

module Profile =
    let name =
        function
        | Smoke -> "smoke"
        | Quick -> "quick"
        | Full -> "full"
        | Released -> "released"

    let tryParse (s: string) =
        match s.Trim().ToLowerInvariant() with
        | "smoke" -> Some Smoke
        | "quick" -> Some Quick
        | "full" -> Some Full
        | "released" -> Some Released
        | _ -> None

/// The parsed command line of a paper script.
type Args =
    {
        Profile: Profile
        /// Seeds per configuration; each script picks its default per profile.
        Seeds: int
        /// Root of the results tree (default `<repo>/results`); run directories go under `<root>/<profile>/<paper>/runs`.
        ResultsRoot: string
        /// CPU threads for every CLI run (passed as REPRODUCE_THREADS, so it does not enter the run's config hash);
        /// None = the library default (every core).
        Threads: int option
        /// Runs executed at once by Cli.inParallel (default: one per core, each on cores/jobs threads): the quick models
        /// are too small to use two threads well, so two single-threaded runs finish sooner than two in a row.
        Jobs: int
        /// JSON file naming the real dataset roots (see DataRoots.fsx); None = `<repo>/data-roots.json` if present.
        DataConfig: string option
        /// With the full profile: run instead of only printing the plan (needs every dataset root).
        Execute: bool
        /// The command as typed, recorded in measured.json.
        Command: string
    }

/// `--gpus N --nodes M` (full profile only): the processes per node and the nodes each train/eval run is launched
/// on through `reproduce launch` (Process.run); None = one process, as before.
let mutable launchShape: (int * int) option = None

/// Repository root: scripts/lib/.. /..
let repoRoot = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", ".."))

let usage (script: string) =
    sprintf
        "usage: dotnet fsi scripts/%s [--profile smoke|quick|full|released] [--seeds N] [--results DIR] [--threads N] [--jobs N] [--data-config FILE] [--execute] [--gpus N] [--nodes M]\n\
         \  --profile      compute profile (default quick); released: the published checkpoints (REPRODUCE_WEIGHTS)\n\
         \  --seeds N      seeds per configuration (default: the script's, per profile)\n\
         \  --results DIR  results root (default results/ in the repository)\n\
         \  --threads N    CPU threads per run (default: every core, or cores/jobs in parallel groups)\n\
         \  --jobs N       runs at once where a script runs a group in parallel (default: one per core)\n\
         \  --data-config  JSON file with dataset roots for the full profile (default data-roots.json)\n\
         \  --execute      full profile: run instead of printing the plan\n\
         \  --gpus N       full profile: data-parallel processes (GPUs) per node, through `reproduce launch`\n\
         \  --nodes M      full profile: nodes (each runs the script with NODE_RANK and MASTER_ADDR set)"
        script

/// Parses `argv` (fsi.CommandLineArgs without the script name is fine too). Bad input prints the problem and the
/// usage to stderr and exits with 2; `--help` prints the usage and exits with 0.
let parseWith (script: string) (defaultSeeds: Profile -> int) (argv: string list) : Args =
    let fail msg : 'a =
        eprintfn "%s: %s\n%s" script msg (usage script)
        exit 2
    let positiveInt flag (v: string) =
        match Int32.TryParse v with
        | true, n when n > 0 -> n
        | _ -> fail (sprintf "%s needs a positive integer, got '%s'" flag v)
    let rec go
        (acc:
            {| Profile: Profile option
               Seeds: int option
               Results: string option
               Threads: int option
               Jobs: int option
               Data: string option
               Execute: bool
               Gpus: int option
               Nodes: int option |})
        args
        =
        match args with
        | [] -> acc
        | ("-h" | "--help") :: _ ->
            printfn "%s" (usage script)
            exit 0
        | "--profile" :: v :: rest ->
            match Profile.tryParse v with
            | Some p -> go {| acc with Profile = Some p |} rest
            | None -> fail (sprintf "--profile must be smoke, quick, full or released, got '%s'" v)
        | "--seeds" :: v :: rest -> go {| acc with Seeds = Some(positiveInt "--seeds" v) |} rest
        | "--results" :: v :: rest -> go {| acc with Results = Some v |} rest
        | "--threads" :: v :: rest -> go {| acc with Threads = Some(positiveInt "--threads" v) |} rest
        | "--jobs" :: v :: rest -> go {| acc with Jobs = Some(positiveInt "--jobs" v) |} rest
        | "--data-config" :: v :: rest ->
            if not (File.Exists v) then fail (sprintf "--data-config: file '%s' does not exist" v)
            go {| acc with Data = Some(Path.GetFullPath v) |} rest
        | "--execute" :: rest -> go {| acc with Execute = true |} rest
        | "--gpus" :: v :: rest -> go {| acc with Gpus = Some(positiveInt "--gpus" v) |} rest
        | "--nodes" :: v :: rest -> go {| acc with Nodes = Some(positiveInt "--nodes" v) |} rest
        | [ ("--profile" | "--seeds" | "--results" | "--threads" | "--jobs" | "--data-config" | "--gpus" | "--nodes") as flag ] ->
            fail (sprintf "%s needs a value" flag)
        | other :: _ -> fail (sprintf "unknown argument '%s'" other)
    let a = go {| Profile = None; Seeds = None; Results = None; Threads = None; Jobs = None; Data = None; Execute = false; Gpus = None; Nodes = None |} argv
    let profile = defaultArg a.Profile Quick
    match a.Gpus, a.Nodes with
    | None, None -> launchShape <- None
    | _ when profile <> Full -> fail "--gpus and --nodes apply to the full profile"
    | g, n -> launchShape <- Some(defaultArg g 1, defaultArg n 1)
    { Profile = profile
      Seeds = defaultArg a.Seeds (defaultSeeds profile)
      ResultsRoot = Path.GetFullPath(defaultArg a.Results (Path.Combine(repoRoot, "results")))
      Threads = a.Threads
      Jobs = defaultArg a.Jobs Environment.ProcessorCount
      DataConfig = a.Data
      Execute = a.Execute
      Command = String.Join(" ", "dotnet fsi scripts/" + script :: argv) }

/// Parses the script's own command line (fsi.CommandLineArgs minus the script path).
let parse (script: string) (defaultSeeds: Profile -> int) : Args = parseWith script defaultSeeds (fsi.CommandLineArgs |> Array.toList |> List.tail)

/// The seeds of a run set: 0 .. Seeds-1.
let seeds (a: Args) = List.init a.Seeds id
