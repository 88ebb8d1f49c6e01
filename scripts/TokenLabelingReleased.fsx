/// The released profile of token-labeling.fsx: the published checkpoints on ImageNet val (lib/Released.fsx).
module TokenLabelingReleased

/// LV-ViT T/S/M/L at every published resolution and the DeiT-S/B baselines, evaluated with `reproduce eval` on
/// ImageNet val: top-1 against the paper (README) and, where it exists, the Paddle port's re-evaluation of the same
/// files (docs/papers/token-labeling.md §1.1); the ADE20K UperNet segmentors with `reproduce probe seg --head-weights`
/// (single-scale and multi-scale + flip mIoU against the paper's).
let run (ctx: Cli.Ctx) =
    let s = Released.start ctx
    let imagenet = Released.dataRoot s DataRoots.ImageNet
    let table = "released checkpoints (ImageNet-1k val)"
    let top1 = Cli.metric "top1"
    // Every file is looked up before anything runs, so a missing one stops the profile before the first evaluation.
    let locate purpose = List.map (fun (c: Released.Checkpoint, id: string) -> id, c, Released.locate s purpose c)
    let evaluate =
        List.map (fun (id, c: Released.Checkpoint, weights) ->
            let cmd = Released.evalArgs s c.Model weights imagenet
            id, (c, Released.step s cmd (fun () -> Released.eval s ("released-" + c.Model) cmd)))
    let lvFiles = locate "ImageNet top-1 vs the paper and the Paddle re-evaluation" Released.lvvit
    let deitFiles = locate "ImageNet top-1 of the DeiT baseline" Released.deit
    let upernet = Released.headRequests s "ADE20K mIoU (single scale, multi-scale + flip) vs the paper" Released.lvvitUpernet |> Released.headEvals s
    let lv = evaluate lvFiles
    let deit = evaluate deitFiles
    let paddle = set [ "s-224"; "m-224"; "s-384"; "m-384"; "m-448"; "l-448" ]
    let rows () =
        [ for id, (c, run) in lv do
              let r = [ Option.get run ]
              yield Results.row table c.Label "top-1 %" (Some(sprintf "tl-model-lvvit-%s-top1" id)) top1 r
              if paddle.Contains id then
                  yield Results.row table (c.Label + " (vs Paddle re-evaluation)") "top-1 %" (Some(sprintf "tl-paddle-lvvit-%s-top1" id)) top1 r
          for id, (c, run) in deit -> Results.row table c.Label "top-1 %" (Some(sprintf "tl-anchor-deit-%s-top1" id)) top1 [ Option.get run ]
          for h, run in upernet ->
              Results.row "released checkpoints (ADE20K val)" h.Checkpoint.Label (Released.miouMetric h) h.PaperRef (Cli.metric "mIoU") [ Option.get run ] ]
    Released.finish s rows []
