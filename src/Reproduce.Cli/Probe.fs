/// `reproduce probe seg|depth|cls` (DINOv2-style linear probes on a frozen ViT) and `reproduce analyze`
/// (per-block [CLS]/patch cosine similarity and token-norm statistics). The work is in Reproduce.Training
/// (Probes/ProbeRun, Analysis/AnalysisRun); this module maps the command line onto it.
module Reproduce.Cli.Probe

open System
open Argu
open Reproduce.Training.Config
open Reproduce.Training.Probes
open Reproduce.Training.Analysis

type ProbeArgs =
    | [<CustomCommandLine("--model")>] Probe_Model of string
    | [<CustomCommandLine("--weights")>] Probe_Weights of string
    | [<CustomCommandLine("--from")>] Probe_From of string
    | [<CustomCommandLine("--head-weights")>] Probe_Head_Weights of string
    | [<CustomCommandLine("--data")>] Probe_Data of string
    | [<CustomCommandLine("--root")>] Probe_Root of string
    | [<CustomCommandLine("--config")>] Probe_Config of string
    | [<CustomCommandLine("--set")>] Probe_Set of string
    | [<CustomCommandLine("--seed")>] Probe_Seed of int
    | [<CustomCommandLine("--out"); Mandatory>] Probe_Out of string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Probe_Model _ -> "registered ViT (default vit_tiny_scenes64)."
            | Probe_Weights _ -> "backbone weights: safetensors or a released torch.save file (default: random init)."
            | Probe_From _ -> "the backbone of a finished training run: RUN/config.json's model keys and RUN/model.safetensors (instead of --model/--weights)."
            | Probe_Head_Weights _ ->
                "a released head to evaluate, no training (probe.head_weights): DINOv2's ADE20K linear / NYUv2, KITTI depth heads, Token Labeling's UperNet segmentors (with --set probe.head=upernet)."
            | Probe_Data _ ->
                "fashion-scenes (default), fashion-scenes-sparse (depth), ade20k (seg), nyu or kitti (depth); cls: fashion-objects (default), fashion-mnist, imagenet."
            | Probe_Root _ -> "dataset root (required for ade20k/nyu/kitti; fashion-scenes: a generated tree, else the cached default)."
            | Probe_Config _ -> "run configuration JSON (replaces the probe defaults)."
            | Probe_Set _ ->
                "override a config key, key=value (e.g. optim.steps=400, probe.layers=[-4,-3,-2,-1]; cls: probe.lrs=[0.01,0.1], probe.n_last_blocks=[1,4], probe.avgpool=[false,true]; repeatable)."
            | Probe_Seed _ -> "seed of the head init, sampling order and flips (default 0)."
            | Probe_Out _ -> "run directory: config.json, metrics.jsonl, final.json (cls: also heads.safetensors)."

type ProbeCommand =
    | [<CliPrefix(CliPrefix.None)>] Seg of ParseResults<ProbeArgs>
    | [<CliPrefix(CliPrefix.None)>] Depth of ParseResults<ProbeArgs>
    | [<CliPrefix(CliPrefix.None)>] Cls of ParseResults<ProbeArgs>

    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Seg _ -> "linear segmentation probe (BN + 1×1 conv, CE ignore 255) → mIoU, aAcc, mAcc (mmseg conventions)."
            | Depth _ -> "linear depth probe (256 bins, SigLoss) → abs_rel … d3 (BTS conventions)."
            | Cls _ ->
                "DINOv2 linear evaluation: a grid of linear heads (lrs × last-n [CLS] × avgpool, SGD + cosine) on one frozen forward → top1, top5, best_head."

type AnalyzeArgs =
    | [<CustomCommandLine("--model"); Mandatory>] Analyze_Model of string
    | [<CustomCommandLine("--weights")>] Analyze_Weights of string
    | [<CustomCommandLine("--set")>] Analyze_Set of string
    | [<CustomCommandLine("--images")>] Analyze_Images of int
    | [<CustomCommandLine("--root")>] Analyze_Root of string
    | [<CustomCommandLine("--outlier-sigmas")>] Analyze_Sigmas of float
    | [<CustomCommandLine("--out"); Mandatory>] Analyze_Out of string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Analyze_Model _ -> "registered ViT."
            | Analyze_Weights _ -> "weights, safetensors with timm keys (default: random init)."
            | Analyze_Set _ -> "model option override, key=value (repeatable)."
            | Analyze_Images _ -> "number of test images (default 32)."
            | Analyze_Root _ -> "fashion-scenes tree for 3-channel models (default: the cached default tree)."
            | Analyze_Sigmas _ -> "outlier rule k: norm > mean + k·std (default 3)."
            | Analyze_Out _ -> "output JSON file."

/// Runs the probe with a progress bar on a terminal, or plain lines (ProbeRun's own, every ⌈steps/20⌉-th step) when
/// the output is redirected — as `reproduce train` does.
let private runWithProgress (config: RunConfig) (out: string) =
    Progress.run (fun plain report message ->
        if plain then
            ProbeRun.Run(config, out, Action<string>(message))
        else
            let onProgress (p: ProbeProgress) = report (int64 p.Step) (int64 p.TotalSteps) (p.Text())
            ProbeRun.Run(config, out, Action<string>(message), Action<ProbeProgress>(onProgress)))

let private runProbe (task: ProbeTask) (a: ParseResults<ProbeArgs>) =
    Errors.guarded (fun () ->
        if a.Contains Probe_From && (a.Contains Probe_Weights || a.Contains Probe_Model) then
            raise (ArgumentException "probe: give either --from RUN_DIR or --model/--weights, not both")
        let sets =
            [ yield! a.TryGetResult Probe_Model |> Option.map (sprintf "model.name=%s") |> Option.toList
              yield! a.TryGetResult Probe_Weights |> Option.map (sprintf "model.weights=%s") |> Option.toList
              yield! a.TryGetResult Probe_Head_Weights |> Option.map (sprintf "probe.head_weights=%s") |> Option.toList
              yield! a.TryGetResult Probe_Data |> Option.map (sprintf "data.dataset=%s") |> Option.toList
              yield! a.TryGetResult Probe_Root |> Option.map (sprintf "data.root=%s") |> Option.toList
              yield! a.TryGetResult Probe_Seed |> Option.map (sprintf "seed=%d") |> Option.toList
              yield! a.GetResults Probe_Set ]
        let config = ProbeRun.Resolve(task, a.TryGetResult Probe_Config |> Option.toObj, sets, a.TryGetResult Probe_From |> Option.toObj)
        let final = runWithProgress config (a.GetResult Probe_Out)
        printfn "%s" (final.ToJsonString())
        0)

/// `reproduce probe seg|depth|cls ...`
let run (a: ParseResults<ProbeCommand>) =
    match a.GetAllResults() with
    | [ Seg p ] -> runProbe ProbeTask.Segmentation p
    | [ Depth p ] -> runProbe ProbeTask.Depth p
    | [ Cls p ] -> runProbe ProbeTask.Classification p
    | _ ->
        eprintfn "%s" (a.Parser.PrintUsage())
        2

/// `reproduce analyze ...`
let analyze (a: ParseResults<AnalyzeArgs>) =
    Errors.guarded (fun () ->
        let overrides = a.GetResults Analyze_Set |> List.map (fun s -> ConfigLoader.ParseAssignment s) |> ResizeArray
        let request =
            AnalysisRequest(
                a.GetResult Analyze_Model,
                overrides,
                a.TryGetResult Analyze_Weights |> Option.toObj,
                a.GetResult(Analyze_Images, 32),
                a.TryGetResult Analyze_Root |> Option.toObj,
                TokenAnalysisOptions(a.GetResult(Analyze_Sigmas, 3.0))
            )
        let out = a.GetResult Analyze_Out
        AnalysisRun.Run(request, out) |> ignore
        printfn "analyze: %s written to %s" request.Model out
        0)
