/// Where the real datasets of the full profile live. Each root comes from an environment variable or, failing
/// that, from a JSON file (`--data-config FILE`, default `<repo>/data-roots.json`, which is gitignored):
///
///   REPRODUCE_IMAGENET  / "imagenet"  ImageNet-1k folder with train/ and val/ (class sub-folders)
///   REPRODUCE_ADE20K    / "ade20k"    ADEChallengeData2016 (images/ and annotations/, training/ and validation/)
///   REPRODUCE_NYU       / "nyu"       NYU Depth v2 in the BTS layout, or the folder of the official labeled .mat + splits.mat
///   REPRODUCE_KITTI     / "kitti"     KITTI depth (raw + depth-annotated, Eigen split files)
///   REPRODUCE_TOKEN_LABELS / "token-labels"  TokenLabeling's released label_top5_train_nfnet folder (NFNet-F6's maps)
///
///   REPRODUCE_WEIGHTS   / "weights"   the released profile's checkpoints (lib/Released.fsx)
///
/// e.g. data-roots.json: { "imagenet": "/data/imagenet", "ade20k": "/data/ADEChallengeData2016" }
module DataRoots

#load "Args.fsx"

open System
open System.IO
open System.Text.Json.Nodes

type Dataset =
    | ImageNet
    | Ade20k
    | Nyu
    | Kitti
    | TokenLabels

let all = [ ImageNet; Ade20k; Nyu; Kitti; TokenLabels ]

/// The key in the data-roots file (and the CLI's dataset name for ade20k/nyu/kitti).
let key =
    function
    | ImageNet -> "imagenet"
    | Ade20k -> "ade20k"
    | Nyu -> "nyu"
    | Kitti -> "kitti"
    | TokenLabels -> "token-labels"

let envVar =
    function
    | ImageNet -> "REPRODUCE_IMAGENET"
    | Ade20k -> "REPRODUCE_ADE20K"
    | Nyu -> "REPRODUCE_NYU"
    | Kitti -> "REPRODUCE_KITTI"
    | TokenLabels -> "REPRODUCE_TOKEN_LABELS"

/// Where to get a dataset that has one official download, for the message of a missing root (the URL is the one the
/// TokenLabeling README gives under "Label data"; OfficialTokenLabels.DownloadUrl in the engine).
let howToGet =
    function
    | TokenLabels ->
        Some
            "download https://drive.google.com/file/d/1Cat8HQPSRVJFPnBLlfzVE0Exe65a_4zh/view?usp=sharing (TokenLabeling's README, \"Label data\") and unpack it so that <folder>/n01440764/n01440764_10026.pt exists"
    | _ -> None

let private configFile (args: Args.Args) =
    match args.DataConfig with
    | Some f -> Some f
    | None ->
        let f = Path.Combine(Args.repoRoot, "data-roots.json")
        if File.Exists f then Some f else None

/// The roots the data-roots file names (a missing file is an empty map; a malformed one an error naming it).
let private fileRoots (args: Args.Args) : Map<string, string> =
    match configFile args with
    | None -> Map.empty
    | Some f ->
        let node =
            try
                JsonNode.Parse(File.ReadAllText f)
            with e ->
                failwithf "data roots file '%s' is not valid JSON: %s" f e.Message
        match node with
        | :? JsonObject as o ->
            [ for kv in o do
                  match kv.Value with
                  | :? JsonValue as v ->
                      match v.TryGetValue<string>() with
                      | true, s -> kv.Key, s
                      | _ -> failwithf "data roots file '%s': '%s' must be a path string" f kv.Key
                  | _ -> failwithf "data roots file '%s': '%s' must be a path string" f kv.Key ]
            |> Map.ofList
        | _ -> failwithf "data roots file '%s' must hold a JSON object {\"imagenet\": \"/path\", ...}" f

/// A folder named by the environment variable `variable`, else by `name` in the data-roots file (the dataset roots,
/// and the released profile's "weights" / REPRODUCE_WEIGHTS); Error says why it is unusable, followed by `hint`.
let resolveFolderWith (args: Args.Args) (name: string) (variable: string) (hint: string) : Result<string, string> =
    let fromEnv = Environment.GetEnvironmentVariable variable
    let candidate =
        if not (String.IsNullOrWhiteSpace fromEnv) then
            Some(fromEnv, variable)
        else
            fileRoots args |> Map.tryFind name |> Option.map (fun p -> p, sprintf "'%s' in %s" name (defaultArg (configFile args) ""))
    match candidate with
    | None -> Error(sprintf "%s: not configured (set %s=/path, or \"%s\" in data-roots.json / --data-config FILE)%s" name variable name hint)
    | Some(path, origin) when not (Directory.Exists path) -> Error(sprintf "%s: %s names '%s', which does not exist%s" name origin path hint)
    | Some(path, _) -> Ok(Path.GetFullPath path)

/// Where the root of `d` comes from and what it is; Error says why it is unusable.
let resolve (args: Args.Args) (d: Dataset) : Result<string, string> =
    resolveFolderWith args (key d) (envVar d) (howToGet d |> Option.map (sprintf "; %s") |> Option.defaultValue "")

/// A folder named by `variable` or by `name` in the data-roots file, with no download hint.
let resolveFolder (args: Args.Args) (name: string) (variable: string) : Result<string, string> = resolveFolderWith args name variable ""
