/// `reproduce info`: what this process runs on.
module Reproduce.Cli.Info

open System.IO
open System.Text.Json.Nodes
open Argu
open Reproduce.Torch

type InfoArgs =
    | Json

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Json -> "print one JSON object {libtorch, cuda_build, threads, processors, cpu, cuda_available} instead of lines."

/// The processor's model name (Linux /proc/cpuinfo), or "unknown".
let cpuModel () =
    try
        File.ReadLines "/proc/cpuinfo"
        |> Seq.tryFind (fun l -> l.StartsWith "model name")
        |> Option.map (fun l -> l.Substring(l.IndexOf ':' + 1).Trim())
        |> Option.defaultValue "unknown"
    with
    | :? IOException
    | :? System.UnauthorizedAccessException -> "unknown"

/// Prints libtorch, thread and CUDA facts, one `key: value` per line, or one JSON object with --json: the facts that
/// decide a run's numerics besides its config (a script records them beside each run).
let run (a: ParseResults<InfoArgs>) =
    if a.Contains Json then
        let o = JsonObject()
        o["libtorch"] <- JsonValue.Create Torch.Version
        o["cuda_build"] <- JsonValue.Create Torch.BuiltWithCuda
        o["threads"] <- JsonValue.Create Torch.NumThreads
        o["processors"] <- JsonValue.Create System.Environment.ProcessorCount
        o["cpu"] <- JsonValue.Create(cpuModel ())
        o["cuda_available"] <- JsonValue.Create Cuda.IsAvailable
        printfn "%s" (o.ToJsonString())
    else
        printfn "libtorch: %s" Torch.Version
        printfn "native built with CUDA: %b" Torch.BuiltWithCuda
        printfn "intra-op threads: %d" Torch.NumThreads
        printfn "malloc keeps freed memory: %b" Torch.MallocKeepsFreedMemory
        printfn "processors: %d" System.Environment.ProcessorCount
        printfn "cpu: %s" (cpuModel ())
        printfn "cuda available: %b" Cuda.IsAvailable
        if Cuda.IsAvailable then printfn "cuda devices: %d" Cuda.DeviceCount
        printfn "sdpa op: %b" (Op.Exists "aten::scaled_dot_product_attention")
    0
