/// Gitignored artifacts re-created on demand. Committed results name checkpoints, extracted weights, token-label
/// stores and trained backbones that a fresh clone lacks; each is registered here with the action that re-creates it
/// and is re-created only when a run that must execute names it in its arguments, so a re-run over complete results
/// stays cheap.
module Artifacts

#load "Args.fsx" "Bands.fsx" "RunDirs.fsx"

open System
open System.IO
open RunDirs

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
    printfn
        "[%s] re-creating %s (gitignored, absent here) by repeating the run%s"
        r.Name
        (String.Join(", ", entries))
        (match threads with
         | Some n -> sprintf " on %d thread(s), as recorded" n
         | None -> "")
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
        let verdict = if inBand then "within the regression bands" else "beyond the regression bands"
        let consequence =
            if inBand then
                ""
            else
                sprintf ", and runs that consumed the original stay as committed (delete %s and its dependents' run directories to re-run them)" r.RelDir
        printfn
            "[%s] warning: the repetition differs from %s %s (%s); its %s are used%s"
            r.Name
            r.RelDir
            verdict
            (String.Join("; ", text))
            (String.Join(", ", entries))
            consequence
    for e in entries do
        let source, target = Path.Combine(scratch, e), Path.Combine(r.Dir, e)
        if Directory.Exists source then
            if Directory.Exists target then Directory.Delete(target, true)
            Directory.Move(source, target)
        elif File.Exists source then
            File.Move(source, target, true)
        else
            failwithf "repeating %s did not produce %s, so the runs that need it cannot run; delete %s to re-run it from scratch" r.RelDir e r.RelDir
    Directory.Delete(scratch, true)

/// Registers how to re-create a missing artifact (repo path) of a finished run.
let whenMissing (artifact: string) (create: unit -> unit) = pending.TryAdd(repoPath artifact, lazy (create ())) |> ignore

/// Re-creates the missing artifacts that `args` name (e.g. `--weights W`, `token_label.source=S`) before they run.
let ensure (args: string list) =
    for KeyValue(artifact, create) in List.ofSeq pending do
        if args |> List.exists (fun a -> a = artifact || a.EndsWith("=" + artifact)) then create.Force()

/// Registers the re-creation of a finished run's Output (token-label store, trained backbone) when it is absent.
let registerOutput (r: RunResult) =
    match r.Output with
    | Some o when not (File.Exists(Path.Combine(Args.repoRoot, o)) || Directory.Exists(Path.Combine(Args.repoRoot, o))) ->
        whenMissing o (fun () -> recreate r [ Path.GetRelativePath(r.Dir, Path.Combine(Args.repoRoot, o)) ])
    | _ -> ()
