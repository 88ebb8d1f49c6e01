/// The check helpers of the fsi check files (LibChecks.fsx, BackboneChecks.fsx): every check prints its name; the
/// first failure exits with 1 and says what differed.
module Checks

let check (name: string) (ok: bool) (detail: string) =
    if ok then
        printfn "ok   %s" name
    else
        eprintfn "FAIL %s: %s" name detail
        exit 1

/// Whether `f` throws with a message containing `fragment`, and the message (or "no exception").
let throws (f: unit -> 'a) (fragment: string) =
    try
        f () |> ignore
        false, "no exception"
    with e ->
        e.Message.Contains fragment, e.Message
