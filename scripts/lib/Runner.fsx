/// One run of a paper script: its directory from (name, seed, hash of the arguments); skipped when finished, a
/// recorded refusal when refused (re-asked with `--check` where the command has one), planned in plan mode, else
/// executed (after re-creating the artifacts it names), timed, and recorded with runtime.json.
module Runner

#load "Args.fsx" "Process.fsx" "RunDirs.fsx" "Artifacts.fsx"

open System.Diagnostics
open System.IO
open Process
open RunDirs

/// The generic run: `body ctx dir` runs the CLI with `dir` as the run directory. `check`, where the command has
/// one, re-asks the engine about a recorded refusal without running (and without the artifacts the run would
/// need), so an engine that now accepts the configuration runs it. `extraFiles` are files (repo-relative) whose
/// contents enter the hash; `output` names the run's main artifact in its directory.
let runIn
    (ctx: Ctx)
    (kind: string)
    (name: string)
    (seed: int option)
    (args: string list)
    (extraFiles: string list)
    (output: string -> string option)
    (check: (Ctx -> unit) option)
    (body: Ctx -> string -> unit)
    : RunResult =
    guard (fun () ->
        let hash = argsHash kind args extraFiles
        let dirName =
            match seed with
            | Some s -> sprintf "%s-s%d-%s" name s hash
            | None -> sprintf "%s-%s" name hash
        let dir = Path.Combine(ctx.RunsDir, dirName)
        let rel = Path.GetRelativePath(ctx.Args.ResultsRoot, dir)
        let recreator =
            Recreator(fun scratch threads ->
                let c =
                    match threads with
                    | Some n -> { ctx with Args = { ctx.Args with Threads = Some n } }
                    | None -> ctx
                Artifacts.ensure args
                body c scratch)
        let result metrics texts skipped planned seconds =
            { Name = name
              Seed = defaultArg seed 0
              Dir = dir
              RelDir = rel
              Metrics = metrics
              Texts = texts
              Output = output dir
              Skipped = skipped
              Planned = planned
              Seconds = seconds
              Recreate = recreator }
        let refusedNow () =
            // Still refused with the same words: the record stands. Accepted now: the record goes and the run executes.
            match check with
            | None -> Some(readRefusal dir)
            | Some ask ->
                try
                    ask ctx
                    clearRefusal dir
                    printfn "[%s] refused earlier, accepted by the engine now: running it" name
                    None
                with RunFailed(_, code, message) when code = RefusedExitCode ->
                    let message = engineMessage message
                    if message <> readRefusal dir then writeRefusal dir args message
                    Some message
        if isFinished dir then
            let m, t = readFinal (Path.Combine(dir, "final.json"))
            printfn "[%s] finished earlier: %s" name rel
            let r = result m t true false 0.0
            // Outputs other runs consume (token-label store, trained backbone) are gitignored: re-create on demand.
            Artifacts.registerOutput r
            r
        else
            match (if isRefused dir then refusedNow () else None) with
            | Some message ->
                printfn "[%s] refused earlier: %s (%s)" name rel message
                raise (RunFailed(commandLine args, RefusedExitCode, message))
            | None when ctx.Plan ->
                lock ctx.Planned (fun () -> ctx.Planned.Add(sprintf "%s  # → %s" (commandLine args) rel))
                result Map.empty Map.empty false true 0.0
            | None ->
                printfn "[%s] %s" name (commandLine args)
                Artifacts.ensure args
                let clock = Stopwatch.StartNew()
                try
                    body ctx dir
                with
                | RunFailed(_, code, message) when code = RefusedExitCode ->
                    // The engine refused the configuration before starting: record it, so it is not tried again.
                    if Directory.Exists dir then Directory.Delete(dir, true)
                    writeRefusal dir args (engineMessage message)
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
