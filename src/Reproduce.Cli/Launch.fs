/// `reproduce launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] -- <command ...>`:
/// torchrun's job for Reproduce. It starts N local ranks of the same `reproduce` with the torchrun variables (RANK,
/// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT), prefixes every line they print
/// with `[rank r]` (and repeats rank 0's last stdout line, the command's result object, unprefixed at the end, so
/// scripts read a launched command's result as a plain one's), and when a rank fails stops the others (SIGTERM, then SIGKILL after 10 s) and exits 1 naming the
/// rank that failed first and how. Each rank gets ⌊cores / N⌋ threads unless REPRODUCE_THREADS is set.
module Reproduce.Cli.Launch

open System
open System.Diagnostics
open System.Net
open System.Net.Sockets
open System.Runtime.InteropServices
open Reproduce.Torch.Distributed

[<DllImport("libc", SetLastError = true)>]
extern int private kill(int pid, int signal)

type LaunchOptions = { NprocPerNode: int; Nnodes: int; NodeRank: int; MasterAddr: string; MasterPort: int option; Command: string list }

let usage = "usage: reproduce launch --nproc-per-node N [--nnodes M --node-rank R --master-addr HOST --master-port PORT] -- <train|eval|probe|annotate ...>"

let private bad (message: string) : 'a = raise (ArgumentException message)

/// Parses the launcher's own options, up to `--`; the rest is the command every rank runs.
let parse (argv: string list) =
    let rec go opts args =
        let int name (v: string) =
            match Int32.TryParse v with
            | true, n -> n
            | _ -> bad (sprintf "launch: %s expects an integer, got '%s'" name v)
        match args with
        | "--" :: rest -> { opts with Command = rest }
        | "--nproc-per-node" :: v :: rest -> go { opts with NprocPerNode = int "--nproc-per-node" v } rest
        | "--nnodes" :: v :: rest -> go { opts with Nnodes = int "--nnodes" v } rest
        | "--node-rank" :: v :: rest -> go { opts with NodeRank = int "--node-rank" v } rest
        | "--master-addr" :: v :: rest -> go { opts with MasterAddr = v } rest
        | "--master-port" :: v :: rest -> go { opts with MasterPort = Some(int "--master-port" v) } rest
        | a :: _ -> bad (sprintf "launch: unknown option '%s'; %s" a usage)
        | [] -> bad (sprintf "launch: no command after `--`; %s" usage)
    let o = go { NprocPerNode = 1; Nnodes = 1; NodeRank = 0; MasterAddr = "127.0.0.1"; MasterPort = None; Command = [] } argv
    if o.NprocPerNode < 1 || o.Nnodes < 1 then bad "launch: --nproc-per-node and --nnodes must be at least 1"
    if o.NodeRank < 0 || o.NodeRank >= o.Nnodes then bad (sprintf "launch: --node-rank %d is outside 0..%d (--nnodes %d)" o.NodeRank (o.Nnodes - 1) o.Nnodes)
    match o.Command with
    | [] -> bad (sprintf "launch: no command after `--`; %s" usage)
    | c :: _ when not (List.contains c [ "train"; "eval"; "probe"; "annotate" ]) ->
        bad (sprintf "launch: '%s' does not run data-parallel; launch train, eval, probe or annotate" c)
    | _ -> o

/// A free TCP port on this machine (torchrun's standalone mode): one launcher alone picks the rendezvous port.
let private freePort () =
    use l = new TcpListener(IPAddress.Loopback, 0)
    l.Start()
    (l.LocalEndpoint :?> IPEndPoint).Port

let private describeExit (code: int) =
    if code > 128 && code < 160 then
        let name =
            match code - 128 with
            | 9 -> " (SIGKILL)"
            | 15 -> " (SIGTERM)"
            | 6 -> " (SIGABRT)"
            | 11 -> " (SIGSEGV)"
            | 2 -> " (SIGINT)"
            | _ -> ""
        sprintf "was killed by signal %d%s" (code - 128) name
    else
        sprintf "exited with code %d" code

/// The command that runs this same `reproduce`: the apphost itself, or `dotnet reproduce.dll`.
let private self () =
    let path = Environment.ProcessPath
    if IO.Path.GetFileNameWithoutExtension(path) = "dotnet" then
        match Reflection.Assembly.GetEntryAssembly() with
        | null -> path, []
        | entry -> path, [ entry.Location ]
    else
        path, []

let run (argv: string list) =
    let o = parse argv
    let world = o.NprocPerNode * o.Nnodes
    match (if world > 1 then ProcessGroup.UnavailableReason else null) with
    | null ->
        let port =
            match o.MasterPort with
            | Some p -> p
            | None when o.Nnodes = 1 -> freePort ()
            | None -> DistEnvironment.DefaultPort
        let threads =
            match Environment.GetEnvironmentVariable "REPRODUCE_THREADS" with
            | null
            | "" -> string (max 1 (Environment.ProcessorCount / o.NprocPerNode))
            | t -> t
        let exe, prefix = self ()
        let output = obj ()
        let lastOfRank0 = ref "" // printed again, unprefixed, at the end: the command's result line
        let say (line: string) = lock output (fun () -> Console.Out.WriteLine line)
        eprintfn
            "launch: %d rank(s) on this node (node %d of %d, world size %d), rendezvous %s:%d, %s thread(s) per rank"
            o.NprocPerNode
            o.NodeRank
            o.Nnodes
            world
            o.MasterAddr
            port
            threads
        let start local =
            let rank = o.NodeRank * o.NprocPerNode + local
            let psi = ProcessStartInfo(exe, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
            for a in prefix @ o.Command do
                psi.ArgumentList.Add a
            for k, v in
                [ "RANK", string rank
                  "WORLD_SIZE", string world
                  "LOCAL_RANK", string local
                  "LOCAL_WORLD_SIZE", string o.NprocPerNode
                  "GROUP_RANK", string o.NodeRank
                  "MASTER_ADDR", o.MasterAddr
                  "MASTER_PORT", string port
                  "REPRODUCE_THREADS", threads ] do
                psi.Environment[k] <- v
            psi.Environment.Remove "TORCHELASTIC_USE_AGENT_STORE" |> ignore
            let p = new Process(StartInfo = psi)
            let forward isOut (e: DataReceivedEventArgs) =
                if not (isNull e.Data) then
                    say (sprintf "[rank %d] %s" rank e.Data)
                    if isOut && rank = 0 && e.Data.Trim() <> "" then lastOfRank0.Value <- e.Data
            p.OutputDataReceived.Add(forward true)
            p.ErrorDataReceived.Add(forward false)
            p.Start() |> ignore
            p.BeginOutputReadLine()
            p.BeginErrorReadLine()
            rank, p
        let ranks = [ for local in 0 .. o.NprocPerNode - 1 -> start local ]
        let stopAll () =
            for _, p in ranks do
                if not p.HasExited then kill (p.Id, 15) |> ignore
            let deadline = DateTime.UtcNow.AddSeconds 10.0
            for _, p in ranks do
                let left = max 0 (int (deadline - DateTime.UtcNow).TotalMilliseconds)
                if not (p.WaitForExit left) then p.Kill true
        use _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, fun _ -> stopAll ())
        use _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, fun _ -> stopAll ())
        // Poll: the first rank to fail stops the job; a short grace lets a rank killed at the same moment be seen.
        let failed () = ranks |> List.filter (fun (_, p) -> p.HasExited && p.ExitCode <> 0)
        while not (ranks |> List.forall (fun (_, p) -> p.HasExited)) && List.isEmpty (failed ()) do
            Threading.Thread.Sleep 100
        if List.isEmpty (failed ()) then
            for _, p in ranks do
                p.WaitForExit() // drains the output
            if lastOfRank0.Value <> "" then say lastOfRank0.Value
            0
        else
            Threading.Thread.Sleep 500
            let first = failed () |> List.sortBy (fun (_, p) -> p.ExitTime, p.ExitCode < 128) |> List.head
            let rank, p = first
            let code = p.ExitCode
            stopAll ()
            for _, p in ranks do
                p.WaitForExit()
            Errors.fail Errors.FailedExitCode (sprintf "launch: rank %d (pid %d) %s; stopped the other ranks of this node" rank p.Id (describeExit code))
    | why -> Errors.fail Errors.FailedExitCode (sprintf "launch: cannot start %d ranks: %s" world why)
