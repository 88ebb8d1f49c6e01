/// `reproduce bench`: step time and img/s of a registered model and of variants of it, measured side by side.
///
///     ./reproduce bench --model vit_tiny_scenes64 --set num_classes=10 \
///         --variant "sta={},anf={}" --variant "anf={}" --variant "sta={}" --batch 32 --steps 20 --threads 1
///
/// Every model is built (same seed), runs --warmup untimed steps, then --rounds rounds alternate the models step by
/// step (A, B, A, B, …), each step timed on its own; per model the median step time, img/s = batch / median, and for
/// each variant step_time_ratio = variant median / base median. One line per model, then one JSON line (the last).
/// The logic is Reproduce.Training.Bench.ModelBench; this command only parses arguments and prints.
module Reproduce.Cli.Bench

open System
open Argu
open Reproduce.Training.Bench

type BenchArgs =
    | [<Mandatory>] Model of name: string
    | [<CustomCommandLine("--set")>] Set of keyValue: string
    | Variant of keyValues: string
    | Batch of int
    | Steps of int
    | Warmup of int
    | Rounds of int
    | Threads of int
    | Device of string
    | Seed of int64
    | Mode of string
    | Json

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "registered model name (see `reproduce models`)."
            | Set _ -> "set one key of the base model, key=value as the run config's model.* keys (repeatable), e.g. --set num_classes=10."
            | Variant _ ->
                "a model to compare with the base: further model keys \"key=value,key=value\" (repeatable; as the run config's model.* keys, JSON lists and objects allowed), e.g. \"sta={},anf.kernel_size=5\"."
            | Batch _ -> "images per step (default 32)."
            | Steps _ -> "timed steps per model and round (default 20)."
            | Warmup _ -> "untimed steps per model before timing (default 3)."
            | Rounds _ -> "rounds of step-by-step alternation (default 3)."
            | Threads _ -> "CPU intra-op threads (default: the process's setting)."
            | Device _ -> "cpu | cuda | cuda:N (default cpu)."
            | Seed _ -> "seed of the models' initialisation and of the synthetic batch (default 0)."
            | Mode _ -> "train (forward, cross-entropy, backward, AdamW; default) | infer (no-grad forward, eval mode)."
            | Json -> "print only the JSON line."

let private describe (model: string) (sets: string) = if String.IsNullOrEmpty sets then model else sprintf "%s [%s]" model sets

let private line (name: string) (m: BenchModelResult) =
    let ratio =
        match Option.ofNullable m.StepTimeRatio with
        | Some r -> sprintf ", ratio %.3f" r
        | None -> ""
    printfn "%s: %.2f ms/step, %.1f img/s, params %.3f M%s" name m.StepMs m.ImagesPerSecond (float m.Params / 1e6) ratio

/// Runs the command; bad input prints `error: …` and returns 1.
let run (a: ParseResults<BenchArgs>) =
    Errors.guarded (fun () ->
        let json = a.Contains Json
        let options =
            BenchOptions(
                Model = a.GetResult Model,
                Sets = (a.GetResults Set |> List.toArray),
                Variants = (a.GetResults Variant |> List.toArray),
                Batch = a.GetResult(Batch, defaultValue = 32),
                Steps = a.GetResult(Steps, defaultValue = 20),
                Warmup = a.GetResult(Warmup, defaultValue = 3),
                Rounds = a.GetResult(Rounds, defaultValue = 3),
                Threads = a.GetResult(Threads, defaultValue = 0),
                Device = a.GetResult(Device, defaultValue = "cpu"),
                Seed = a.GetResult(Seed, defaultValue = 0L),
                Mode = ModelBench.ParseMode(a.GetResult(Mode, defaultValue = "train"))
            )
        let onMessage = if json then null else Action<string>(fun m -> printfn "%s" m)
        let r = ModelBench.Run(options, onMessage)
        if not json then
            let baseName = describe r.Model r.Base.Sets
            line baseName r.Base
            for v in r.Variants do
                line (sprintf "%s + %s" baseName v.Sets) v
        printfn "%s" (r.ToJson())
        0)
