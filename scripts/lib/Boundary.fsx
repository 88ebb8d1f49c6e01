/// How a paper script fails: one `error: …` line saying what failed and what to do, exit code 1, never a stack
/// trace. Every entry point of the Cli library (Cli.fsx and the files it loads) runs inside a boundary; the
/// outermost one reports, inner ones (a parallel group's pieces, `Cli.attempt`) let the exception through to it.
module Boundary

open System.Threading

let private depth = AsyncLocal<int>()

/// Runs `f` one boundary deeper, so a failure inside propagates to the caller instead of ending the script.
let nested (f: unit -> 'T) : 'T =
    let outer = depth.Value
    depth.Value <- outer + 1
    try
        f ()
    finally
        depth.Value <- outer

/// Runs `f`; at the outermost boundary an exception ends the script with `error: <describe e>` on stderr and exit 1.
let run (describe: exn -> string) (f: unit -> 'T) : 'T =
    if depth.Value > 0 then
        f ()
    else
        try
            nested f
        with e ->
            let text = (describe e).Replace("\r", "").Split('\n', System.StringSplitOptions.RemoveEmptyEntries) |> Array.map (fun l -> l.Trim())
            eprintfn "error: %s" (System.String.Join("; ", text))
            exit 1
