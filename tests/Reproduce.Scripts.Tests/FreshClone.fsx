// A paper script in miniature for FreshCloneTests.cs: an annotator (its weights via `reproduce weights`), its token-label
// store, and a row the engine refuses (token labels with CutMix) that needs that store, the shape of
// token-labeling.fsx that failed on a fresh clone.
// With FRESH_CLONE_FAIL=1 it also runs a configuration that fails for a reason other than a refusal.
//
//   dotnet fsi tests/Reproduce.Scripts.Tests/FreshClone.fsx --profile smoke --results DIR
#load "../../scripts/lib/Lib.fsx"

let args = Args.parse "FreshClone.fsx" (fun _ -> 1)
let ctx = Cli.context args "fresh-clone"

let tiny (name: string) (model: string) (overrides: string list) =
    Cli.runConfig
        name
        ([ sprintf "model.name=%s" model
           "optim.steps=6"
           "optim.warmup_steps=1"
           "data.batch_size=32"
           "data.train_limit=192"
           "data.eval_limit=100"
           "checkpoint.every_steps=0" ]
         @ overrides)
    |> Cli.withConfig "configs/fashion-mnist-vit-tiny.json"

let annotator = Cli.train ctx (tiny "annotator" "resnet_tiny_fm28" []) 0
let labels =
    Cli.annotate
        ctx
        { Name = "token-labels"
          Model = "resnet_tiny_fm28"
          Weights = Cli.weights annotator "best"
          Data = "fashion-mnist"
          Root = None
          Split = "train"
          Resolution = 28
          TopK = 5
          Limit = Some 192
          Batch = None }
let store = defaultArg labels.Output "<store>"

let tlCutmix =
    Cli.attempt (fun () ->
        Cli.train ctx (tiny "tl-cutmix" "lvvit_tiny_fm28" [ "token_label.enabled=true"; sprintf "token_label.source=%s" store; "aug.cutmix=1.0" ]) 0)
match tlCutmix with
| Ok _ -> printfn "ROW accepted"
| Error why -> printfn "ROW refused: %s" why

if System.Environment.GetEnvironmentVariable "FRESH_CLONE_FAIL" = "1" then
    Cli.train ctx (tiny "broken-data" "vit_tiny_fm28" [ "data.root=/nonexistent/fashion-mnist" ]) 0 |> ignore

printfn "EXECUTED %d" ctx.Executed.Count
