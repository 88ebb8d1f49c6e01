// Dumps fashion-objects images and labels as raw uint8 files for vit_replica.py (after `dotnet fsi build.fsx build`):
//   dotnet fsi tools/learnability/dump_fashion_objects.fsx OUT_DIR [TRAIN_N] [TEST_N]
// OUT_DIR/{train,test}_x.bin: N×64×64×3 uint8 (row-major HWC); {train,test}_y.bin: N uint8 labels. Dataset seed 0.
#r "../../src/Reproduce.Cli/bin/Release/net10.0/Reproduce.Torch.dll"
#r "../../src/Reproduce.Cli/bin/Release/net10.0/Reproduce.Vision.dll"

open System.IO
open Reproduce.Vision.Data.FashionScenes

let args = fsi.CommandLineArgs |> Array.skip 1
if args.Length < 1 then
    eprintfn "usage: dotnet fsi tools/learnability/dump_fashion_objects.fsx OUT_DIR [TRAIN_N] [TEST_N]"
    exit 2
let out = args[0]
let count i fallback = if args.Length > i then int args[i] else fallback
Directory.CreateDirectory out |> ignore

let dump split n =
    let ds = FashionObjects.Open(split, 0)
    let images = Array.zeroCreate<byte> (n * 64 * 64 * 3)
    let labels = Array.zeroCreate<byte> n
    for i in 0 .. n - 1 do
        let rgb = ds.RenderRgb i
        Array.blit rgb 0 images (i * rgb.Length) rgb.Length
        labels[i] <- byte (ds.Label i)
    File.WriteAllBytes(Path.Combine(out, split + "_x.bin"), images)
    File.WriteAllBytes(Path.Combine(out, split + "_y.bin"), labels)

dump "train" (count 1 10000)
dump "test" (count 2 2000)
printfn "wrote %s" out
