/// Runs the `reproduce` CLI as a subprocess: the build step, the command line, the exit codes, and how a failure
/// reads (RunFailed, one line at the scripts' boundary). What a run does with the CLI is in RunDirs.fsx/Commands.fsx.
module Process

#load "Args.fsx" "Boundary.fsx"

open System
open System.Diagnostics
open System.IO
open System.Text
open System.Text.Json.Nodes

/// A CLI run that exited with an error: the command, the exit code, and the CLI's `error: …` text.
exception RunFailed of command: string * exitCode: int * message: string

/// Exit code of a configuration the engine refuses (`reproduce train`: bad key or value, unsupported combination).
/// Deterministic for a given config and engine, so it is recorded as the run's outcome (RunDirs.refusedFile).
[<Literal>]
let RefusedExitCode = 3

/// One line for a failure that ends a script (Boundary.run): what failed and what to do.
let describeFailure (e: exn) =
    match e with
    | RunFailed(command, code, message) ->
        sprintf
            "`%s` exited with %d: %s (the output above has the details; finished runs are kept, so re-running the script continues from here)"
            command
            code
            message
    | :? AggregateException as a when a.InnerExceptions.Count = 1 -> a.InnerExceptions[0].Message
    | e -> e.Message

/// Runs `f` inside the scripts' failure boundary (Boundary.run with describeFailure).
let guard (f: unit -> 'T) : 'T = Boundary.run describeFailure f

/// The CLI's message without its `error: ` prefix (what refused.json and `Cli.attempt` keep).
let engineMessage (message: string) = message.Replace("error: ", "")

let private dll = Path.Combine(Args.repoRoot, "src", "Reproduce.Cli", "bin", "Release", "net10.0", "reproduce.dll")
let mutable private built = false

/// Makes sure the CLI is built and current: the first call runs `./reproduce --build-only` (builds when sources are
/// newer, runs nothing); later calls start the dll directly, skipping the launcher's staleness check.
let ensureBuilt () =
    if not built then
        let psi = ProcessStartInfo(Path.Combine(Args.repoRoot, "reproduce"), "--build-only", WorkingDirectory = Args.repoRoot, UseShellExecute = false)
        use p = Process.Start psi
        p.WaitForExit()
        if p.ExitCode <> 0 || not (File.Exists dll) then
            failwithf "building the reproduce CLI failed (./reproduce --build-only exited with %d): run `dotnet fsi build.fsx build` to see why" p.ExitCode
        built <- true

let private quote (a: string) =
    if a = "" || a |> Seq.exists (fun c -> Char.IsWhiteSpace c || c = '"' || c = '\'') then "'" + a.Replace("'", "'\\''") + "'" else a

/// `args` through `reproduce launch` when the script was given `--gpus`/`--nodes` (train and eval only): on several
/// nodes each node runs the script with NODE_RANK and MASTER_ADDR set, as for torchrun.
let launched (args: string list) =
    match Args.launchShape, args with
    | Some(gpus, nodes), ("train" | "eval") :: _ when gpus * nodes > 1 ->
        let node =
            if nodes = 1 then
                []
            else
                let env name =
                    match Environment.GetEnvironmentVariable name with
                    | null
                    | "" -> "$" + name
                    | v -> v
                [ "--nnodes"; string nodes; "--node-rank"; env "NODE_RANK"; "--master-addr"; env "MASTER_ADDR" ]
        [ "launch"; "--nproc-per-node"; string gpus ] @ node @ [ "--" ] @ args
    | _ -> args

/// `reproduce <args>` as a shell would read it (error messages, plan mode, refused.json's readers).
let commandLine (args: string list) = String.Join(" ", "reproduce" :: (launched args |> List.map quote))

/// Runs `reproduce <args>` in the repository root on `threads` CPU threads (REPRODUCE_THREADS; None: every core),
/// echoing its output with a `[label]` prefix when `echo`. Returns stdout; a non-zero exit raises RunFailed with
/// the CLI's error lines.
let run (echo: bool) (threads: int option) (label: string) (args: string list) : string =
    ensureBuilt ()
    let psi = ProcessStartInfo("dotnet", WorkingDirectory = Args.repoRoot, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true)
    psi.ArgumentList.Add dll
    for a in launched args do
        psi.ArgumentList.Add a
    threads |> Option.iter (fun n -> psi.Environment["REPRODUCE_THREADS"] <- string n)
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

/// The last non-empty line of a command's stdout parsed as JSON: the result object (or array) the commands the
/// scripts read print last (`train`, `eval`, `annotate`, `weights`, `bench --json`, `models --json`, `info --json`).
let lastJson (args: string list) (stdout: string) : JsonNode =
    let last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) |> Array.tryLast
    let fail why = failwithf "`%s` printed %s as its last line, so its result cannot be read" (commandLine args) why
    match last with
    | None -> fail "nothing"
    | Some line ->
        match
            (try
                JsonNode.Parse line
             with _ ->
                 null)
        with
        | null -> fail (sprintf "no JSON ('%s')" line)
        | node -> node

/// Writes `text` to `path` through a temporary file and a rename, so an interrupted script leaves no half-written file.
let writeAtomic (path: string) (text: string) =
    let tmp = path + ".tmp"
    File.WriteAllText(tmp, text)
    File.Move(tmp, path, true)
