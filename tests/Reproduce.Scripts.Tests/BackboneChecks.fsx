// Checks of scripts/Backbone.fsx's pretraining recipes at the CPU profiles, run by BackboneRecipeTests.cs
// (`dotnet fsi tests/Reproduce.Scripts.Tests/BackboneChecks.fsx`): every check prints its name; the first failure
// exits with 1 and says what differed. Nothing is trained: the checks read the run configurations the script builds.
#load "../../scripts/Backbone.fsx" "Checks.fsx"

open System
open Checks

let envAt (profile: string) =
    let args = Args.parseWith "x.fsx" (fun _ -> 2) [ "--profile"; profile; "--results"; "/tmp/backbone-checks" ]
    Backbone.env args (Cli.context args "specialization") []

let quick = envAt "quick"
let smoke = envAt "smoke"
let qkv = Backbone.variant "norm-qkv" "norm + QKV" [ "specialization={}" ]
let endsWith (suffix: string) (c: Cli.RunConfigArgs) = c.Config |> Option.exists (fun f -> f.EndsWith suffix)

// DINOv2 at quick: its committed short config, cut to the profile's budget, with the variant's model keys.
let dino = Backbone.pretrainStageConfig quick Backbone.dinov2 qkv 0
check "dinov2 at quick: run name" (dino.Name = "pretrain-dinov2-norm-qkv") dino.Name
check "dinov2 at quick: its CPU config" (endsWith "configs/fashion-objects-dinov2-short.json" dino) (sprintf "%A" dino.Config)
let budgetSets =
    [ "optim.steps=100"; "optim.warmup_steps=10"; "data.batch_size=32"; "data.train_limit=3200"; "data.eval_limit=1000"; "checkpoint.every_steps=0" ]
check
    "dinov2 at quick: the budget's steps, batch and limits, then the variant's model keys"
    (dino.Overrides = budgetSets @ [ "model.specialization={}" ])
    (String.Join(" ", dino.Overrides))

// The default (DeiT) recipe keeps the run names and config every committed supervised run has.
let sup = Backbone.pretrainStageConfig quick Backbone.deit qkv 0
check "deit at quick: run name and config" (sup.Name = "pretrain-norm-qkv" && endsWith "configs/fashion-objects-vit-tiny.json" sup) (sprintf "%A" sup)
check "deit at quick: same budget keys" (sup.Overrides = budgetSets @ [ "model.specialization={}" ]) (String.Join(" ", sup.Overrides))
check "pretrainConfig is the default recipe's" (Backbone.pretrainConfig quick qkv = sup) (sprintf "%A" (Backbone.pretrainConfig quick qkv))

// Smoke cuts the same recipe to its own budget.
let dinoSmoke = Backbone.pretrainStageConfig smoke Backbone.dinov2 Backbone.baseline 0
check
    "dinov2 at smoke: the smoke budget"
    (dinoSmoke.Overrides
     |> List.forall (fun s ->
         List.contains
             s
             [ "optim.steps=10"; "optim.warmup_steps=1"; "data.batch_size=32"; "data.train_limit=320"; "data.eval_limit=100"; "checkpoint.every_steps=0" ]))
    (String.Join(" ", dinoSmoke.Overrides))

// DeiT-III has no CPU form: refused, naming the recipe and its full-profile configs.
let named, refused = throws (fun () -> Backbone.pretrainStageConfig quick Backbone.deit3 qkv 0) "the DeiT-III recipe is defined at the full profile only"
check "deit3 at quick: refused with the recipe's name and configs" (named && refused.Contains "configs/deit3-vit-b16-in1k-400ep.json") refused

printfn "all backbone checks passed"
