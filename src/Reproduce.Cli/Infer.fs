/// `reproduce infer`: a registered model on a tensor file (logits as safetensors) or on an image folder (top-5 CSV).
/// The logic is Reproduce.Training.Inference.ModelInference; this command only parses arguments and prints.
module Reproduce.Cli.Infer

open Argu
open Reproduce.Training.Inference

type InferArgs =
    | [<Mandatory>] Model of name: string
    | Weights of file: string
    | Images of dir: string
    | Tensor of file: string
    | [<Mandatory>] Out of file: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "registered model name (see `reproduce models`)."
            | Weights _ -> "safetensors state dict to load (strict: every key, matching shapes)."
            | Images _ -> "folder of JPEG/PNG images: the model's eval transform, then a CSV of top-5 classes and probabilities."
            | Tensor _ -> "safetensors file holding `input` [B,C,H,W] float32, already normalised; writes `logits` to --out."
            | Out _ -> "output file: safetensors with --tensor, CSV with --images (written atomically)."

/// Runs the command; bad input prints `error: …` naming the file, key or shape and returns 1 (nothing written).
let run (a: ParseResults<InferArgs>) =
    Errors.guarded (fun () ->
        let out = a.GetResult Out
        match a.TryGetResult Images, a.TryGetResult Tensor with
        | Some _, Some _
        | None, None -> invalidArg "images" "infer: give exactly one of --images DIR or --tensor FILE"
        | images, tensor ->
            use model = ModelInference.LoadModel(a.GetResult Model, a.TryGetResult Weights |> Option.toObj)
            match images, tensor with
            | Some dir, _ ->
                let n = ModelInference.RunImages(a.GetResult Model, model, dir, out)
                printfn "wrote top-5 classes of %d images to %s" n out
            | _, Some file ->
                let shape = ModelInference.RunTensor(model, file, out)
                printfn "wrote logits [%s] to %s" (shape |> Array.map string |> String.concat ", ") out
            | None, None -> ()
            0)
