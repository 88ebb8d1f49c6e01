/// `reproduce info`: what this process runs on.
module Reproduce.Cli.Info

open Reproduce.Torch

/// Prints libtorch, thread and CUDA facts, one `key: value` per line.
let run () =
    printfn "libtorch: %s" Torch.Version
    printfn "native built with CUDA: %b" Torch.BuiltWithCuda
    printfn "intra-op threads: %d" Torch.NumThreads
    printfn "malloc keeps freed memory: %b" Torch.MallocKeepsFreedMemory
    printfn "processors: %d" System.Environment.ProcessorCount
    printfn "cuda available: %b" Cuda.IsAvailable
    if Cuda.IsAvailable then
        printfn "cuda devices: %d" Cuda.DeviceCount
    printfn "sdpa op: %b" (Op.Exists "aten::scaled_dot_product_attention")
    0
