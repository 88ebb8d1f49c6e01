/// Independent pieces of a paper script (each typically one or more CLI runs) run side by side.
module Parallel

#load "Process.fsx" "RunDirs.fsx"

open System
open RunDirs

/// Runs `work` `ctx.Args.Jobs` at a time, results in input order. Each piece gets a context whose runs use
/// cores/jobs threads, unless --threads was given. The first failure is re-raised after the others finished (their
/// finished runs stay cached).
let inParallel (ctx: Ctx) (work: (Ctx -> 'T) list) : 'T list =
    Process.guard
    <| fun () ->
        Process.ensureBuilt ()
        let jobs = max 1 (min ctx.Args.Jobs work.Length)
        let threads = ctx.Args.Threads |> Option.orElse (Some(max 1 (Environment.ProcessorCount / jobs)))
        let inner = { ctx with Args = { ctx.Args with Threads = threads } }
        use gate = new Threading.SemaphoreSlim(jobs)
        let tasks =
            work
            |> List.map (fun w ->
                Threading.Tasks.Task.Run(fun () ->
                    gate.Wait()
                    try
                        (try
                            Ok(w inner)
                         with e ->
                             Error e)
                    finally
                        gate.Release() |> ignore))
        let results = tasks |> List.map (fun t -> t.Result)
        results
        |> List.map (function
            | Ok v -> v
            | Error e -> raise e)
