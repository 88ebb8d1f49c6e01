/// `reproduce data ...`: dataset trees — validate real layouts (`check`), build the fashion-scenes stand-in (`scenes`).
module Reproduce.Cli.Data

open System
open Argu
open Reproduce.Vision.Data.Datasets
open Reproduce.Vision.Data.FashionScenes
open Reproduce.Vision.Data.TokenLabels

type CheckArgs =
    | [<MainCommand; ExactlyOnce>] Dataset of dataset: string
    | [<Mandatory>] Root of dir: string
    | Images of dir: string
    | Split of name: string
    | Limit of samples: int
    | Header_Only
    | Max_Problems of count: int
    | Threads of count: int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Dataset _ ->
                "imagenet, ade20k, nyu, kitti, fashion-scenes (a generated tree: checks its three layouts), or token-labels (TokenLabeling's released maps, with --images)."
            | Root _ ->
                "the dataset root (ImageNet: holds train/ and val/; ADE20K: ADEChallengeData2016; NYUv2/KITTI: the BTS layout, lists in train_test_inputs/; NYUv2 also the folder of the official nyu_depth_v2_labeled.mat + splits.mat; token-labels: the label_top5_train_nfnet folder)."
            | Images _ -> "token-labels: the ImageNet root (holding train/) whose training images the maps must cover."
            | Split _ -> "check only this split (default: every split present)."
            | Limit _ -> "check at most this many samples per split (the layout scan always covers all)."
            | Header_Only -> "read image headers only instead of decoding every file (faster; misses truncated data and bad label values)."
            | Max_Problems _ -> "problems to print (default 20; all are counted)."
            | Threads _ -> "parallel decoders (default: processor count)."

type ScenesArgs =
    | Root of dir: string
    | Seed of int
    | Train of scenes: int
    | Test of scenes: int
    | Height of pixels: int
    | Width of pixels: int
    | Max_Items of count: int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Root _ -> "cache folder (default $REPRODUCE_DATA_DIR, else ~/.cache/reproduce/data)."
            | Seed _ -> "seed of every random choice (default 0)."
            | Train _ -> "train scenes (default 2000)."
            | Test _ -> "test scenes (default 500)."
            | Height _ -> "image height (default 96)."
            | Width _ -> "image width (default 128)."
            | Max_Items _ -> "most items per scene (default 6)."

type DataArgs =
    | [<CliPrefix(CliPrefix.None)>] Check of ParseResults<CheckArgs>
    | [<CliPrefix(CliPrefix.None)>] Scenes of ParseResults<ScenesArgs>

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Check _ -> "validate a dataset tree: counts, classes and the first problems (exit code 1 when there are any)."
            | Scenes _ -> "generate (or find cached) the fashion-scenes stand-in for ADE20K, NYUv2 and KITTI; prints its folder."

let private show (maxProblems: int) (r: DatasetReport) : DatasetReport =
    printfn "dataset: %s" r.Dataset
    printfn "root: %s" r.Root
    for s in r.Splits do
        printfn "split %s: %d samples (%d checked)" s.Name s.Samples s.Checked
        for struct (k, v) in s.Facts do
            printfn "  %s: %s" k v
    if r.Classes.Count > 0 then
        let shown = r.Classes |> Seq.truncate 12 |> String.concat ", "
        printfn "classes: %d (%s%s)" r.Classes.Count shown (if r.Classes.Count > 12 then ", ..." else "")
    for n in r.Notes do
        printfn "note: %s" n
    if r.Problems.Count = 0 then
        printfn "problems: none"
    else
        printfn "problems: %d%s" r.Problems.Count (if r.Problems.Count > maxProblems then sprintf " (the first %d)" maxProblems else "")
        for p in r.Problems |> Seq.truncate maxProblems do
            printfn "  %O" p
    r

/// Prints the overall result of the reports; returns the exit code (1 when any problem was found).
let private finish (reports: DatasetReport list) =
    let problems = reports |> List.sumBy (fun r -> r.Problems.Count)
    printfn ""
    if problems = 0 then
        printfn "result: ok"
        0
    else
        printfn "result: %d problem(s)" problems
        1

/// Checks each (dataset, root) pair, printing one report each; returns the exit code (1 when any problem was found).
let private checkAll (options: CheckOptions) (maxProblems: int) (runs: (string * string) list) =
    let reports =
        runs
        |> List.mapi (fun i (name, dir) ->
            if i > 0 then printfn ""
            show maxProblems (DatasetChecker.Check(name, dir, options)))
    finish reports

/// Runs `data check`; returns the exit code (1 when any problem was found, 2 for an unknown dataset).
let check (a: ParseResults<CheckArgs>) =
    let options =
        CheckOptions(
            Split = a.GetResult(Split, defaultValue = null),
            Limit = a.GetResult(Limit, defaultValue = Int32.MaxValue),
            Decode = not (a.Contains Header_Only),
            Threads = a.GetResult(Threads, defaultValue = Environment.ProcessorCount)
        )
    let maxProblems = a.GetResult(Max_Problems, defaultValue = 20)
    let root = a.GetResult CheckArgs.Root
    match a.GetResult Dataset with
    | "fashion-scenes" ->
        let tree = FashionScenesTree.Open root
        checkAll options maxProblems [ "ade20k", tree.AdeRoot; "nyu", tree.NyuRoot; "kitti", tree.KittiRoot ]
    | "token-labels" ->
        match a.TryGetResult Images with
        | None ->
            eprintfn "data check token-labels needs --images DIR, the ImageNet root whose train/ the maps cover"
            2
        | Some images -> finish [ show maxProblems (OfficialTokenLabelCheck.Check(root, images, options)) ]
    | d when DatasetChecker.Datasets |> Seq.contains d -> checkAll options maxProblems [ d, root ]
    | d ->
        eprintfn "unknown dataset '%s' (imagenet, ade20k, nyu, kitti, fashion-scenes, token-labels)" d
        2

/// Runs `data scenes`: ensures the tree exists and prints where it is.
let scenes (a: ParseResults<ScenesArgs>) =
    let d = FashionScenesConfig()
    let config =
        FashionScenesConfig(
            Seed = a.GetResult(Seed, d.Seed),
            TrainCount = a.GetResult(Train, d.TrainCount),
            TestCount = a.GetResult(Test, d.TestCount),
            Height = a.GetResult(Height, d.Height),
            Width = a.GetResult(Width, d.Width),
            MaxItems = a.GetResult(Max_Items, d.MaxItems)
        )
    let sw = Diagnostics.Stopwatch.StartNew()
    let tree = FashionScenes.Ensure(config, a.GetResult(ScenesArgs.Root, defaultValue = null))
    printfn
        "fashion-scenes: %s (%d train + %d test scenes of %dx%d, seed %d; %.1f s)"
        tree.Root
        config.TrainCount
        config.TestCount
        config.Height
        config.Width
        config.Seed
        sw.Elapsed.TotalSeconds
    printfn "  ade20k: %s" tree.AdeRoot
    printfn "  nyu:    %s" tree.NyuRoot
    printfn "  kitti:  %s" tree.KittiRoot
    0

let run (a: ParseResults<DataArgs>) =
    match a.GetAllResults() with
    | [ Check c ] -> check c
    | [ Scenes s ] -> scenes s
    | _ ->
        eprintfn "%s" (a.Parser.PrintUsage())
        2
