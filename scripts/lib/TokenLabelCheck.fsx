/// The released token labels of the full profile (TokenLabeling's label_top5_train_nfnet folder) are checked against
/// the ImageNet train tree before any run reads them: `reproduce data check token-labels` (names, coverage, fp16
/// [2,5,18,18], sorted scores, distinct in-range indices). Plan mode lists the command; --execute runs it once.
module TokenLabelCheck

#load "Args.fsx" "Process.fsx" "RunDirs.fsx"

/// Files whose contents the check decodes (all names are always checked): enough to catch a wrong format or a
/// truncated download quickly without decoding 1.28 M files.
[<Literal>]
let ContentLimit = 20000

let private alreadyChecked = System.Collections.Concurrent.ConcurrentDictionary<string, unit>()

/// Plans or runs the check of `labels` against the `train/` split under `imagenet`.
let checkReleased (ctx: RunDirs.Ctx) (labels: string) (imagenet: string) =
    let args = [ "data"; "check"; "token-labels"; "--root"; labels; "--images"; imagenet; "--limit"; string ContentLimit ]
    if ctx.Plan then
        lock ctx.Planned (fun () -> ctx.Planned.Add(sprintf "%s  # the released token labels, before any run reads them" (Process.commandLine args)))
    elif alreadyChecked.TryAdd(labels, ()) then
        Process.guard (fun () ->
            try
                Process.run true ctx.Args.Threads "token-labels" args |> ignore
            with Process.RunFailed(_, code, _) ->
                failwithf "the token labels in '%s' failed `%s` (exit %d; its problems are listed above)" labels (Process.commandLine args) code)
