/// `reproduce annotate`: dense top-k score maps of a trained teacher over a dataset, into a token-label store.
/// The logic is Reproduce.Training.Annotation.Annotator; this command only parses arguments and prints.
module Reproduce.Cli.Annotate

open Argu
open Reproduce.Training.Annotation

type AnnotateArgs =
    | [<Mandatory>] Model of name: string
    | [<Mandatory>] Weights of file: string
    | [<Mandatory>] Data of dataset: string
    | Root of dir: string
    | Split of name: string
    | [<Mandatory>] Resolution of pixels: int
    | [<Mandatory>] Topk of k: int
    | [<Mandatory>] Out of store: string
    | Limit of images: int
    | Batch of images: int
    | Workers of threads: int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ ->
                "registered teacher with dense score maps: a ResNet or NFNet annotator (resnet_tiny_fm28, resnet_tiny_objects64, resnet18, resnet50, dm_nfnet_f0…f6) or a ViT with an aux head (lvvit_*)."
            | Weights _ -> "the teacher's trained weights (safetensors)."
            | Data _ -> "fashion-mnist, fashion-objects (64×64 RGB, rendered as the trainer renders it) or imagenet."
            | Root _ ->
                "dataset root (fashion-mnist, fashion-objects: the Fashion-MNIST folder, default /usr/share/datasets/fashion-mnist; imagenet: required, holds train/ and val/)."
            | Split _ -> "split to annotate (default train)."
            | Resolution _ -> "input side R: shorter side resized to R, center crop R×R (fashion-objects: rendered at R×R; 64 for vit_tiny_scenes64)."
            | Topk _ -> "classes kept per location."
            | Out _ -> "token-label store to write (atomically)."
            | Limit _ -> "annotate only the first N images."
            | Batch _ -> "images per forward (default 64)."
            | Workers _ -> "threads decoding and transforming the next batches while the teacher runs (default 2; 0 = none); the store is the same."

/// Runs the command; the last stdout line is {"images": N, "topk": K, "store": FILE}. Bad input prints `error: …` and returns 1 (no store written).
let run (a: ParseResults<AnnotateArgs>) =
    Errors.guarded (fun () ->
        let options =
            AnnotateOptions(
                a.GetResult Model,
                a.GetResult Weights,
                a.GetResult Data,
                a.TryGetResult Root |> Option.toObj,
                a.GetResult(Split, "train"),
                a.GetResult Resolution,
                a.GetResult Topk,
                a.GetResult Out,
                a.TryGetResult Limit |> Option.toNullable,
                a.GetResult(Batch, 64),
                a.GetResult(Workers, 2)
            )
        let n = Annotator.Run(options, fun d t -> if d = t || d % 1000 < options.BatchSize then eprintfn "annotated %d/%d" d t)
        printfn "wrote top-%d score maps of %d images to %s" options.TopK n options.Output
        let result = System.Text.Json.Nodes.JsonObject()
        result["images"] <- System.Text.Json.Nodes.JsonValue.Create n
        result["topk"] <- System.Text.Json.Nodes.JsonValue.Create options.TopK
        result["store"] <- System.Text.Json.Nodes.JsonValue.Create options.Output
        printfn "%s" (result.ToJsonString())
        0)
