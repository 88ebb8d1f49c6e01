/// Model weights out of a training checkpoint. A checkpoint's state.safetensors holds the model under `model.`,
/// with EMA, optimizer and RNG state beside it; `annotate --weights` and `probe --weights` want the plain model
/// state dict (timm keys), so this copies the `model.` tensors into a file of their own.
module Weights

open System
open System.IO
open System.Text
open System.Text.Json.Nodes

/// Header (as JSON) and data offset of a safetensors file: u64 LE header length, JSON header, packed data.
let private readHeader (path: string) =
    use s = File.OpenRead path
    use r = new BinaryReader(s)
    let n = r.ReadUInt64()
    if n = 0UL || n > uint64 s.Length - 8UL then failwithf "'%s' is not a safetensors file (header length %d)" path n
    let text = Encoding.UTF8.GetString(r.ReadBytes(int n))
    match JsonNode.Parse text with
    | :? JsonObject as o -> o, 8L + int64 n
    | _ -> failwithf "'%s': safetensors header is not a JSON object" path

/// Writes the tensors of `source` whose names start with `prefix` to `target`, with the prefix removed
/// (atomically: temp file + rename). Returns how many tensors were copied; none is an error naming the file.
let extract (source: string) (prefix: string) (target: string) =
    let header, dataStart = readHeader source
    let entries =
        [ for kv in header do
              if kv.Key <> "__metadata__" && kv.Key.StartsWith prefix then
                  let o = kv.Value.AsObject()
                  let offsets = o["data_offsets"].AsArray()
                  kv.Key.Substring prefix.Length, o, offsets[0].GetValue<int64>(), offsets[1].GetValue<int64>() ]
        |> List.sortBy (fun (_, _, b, _) -> b)
    if entries.IsEmpty then failwithf "'%s' holds no tensor named '%s…'" source prefix
    let outHeader = JsonObject()
    let mutable offset = 0L
    for name, o, b, e in entries do
        let entry = JsonObject()
        entry["dtype"] <- o["dtype"].DeepClone()
        entry["shape"] <- o["shape"].DeepClone()
        entry["data_offsets"] <- JsonArray(JsonValue.Create offset, JsonValue.Create(offset + e - b))
        outHeader[name] <- entry
        offset <- offset + e - b
    let headerBytes =
        let raw = Encoding.UTF8.GetBytes(outHeader.ToJsonString())
        // Pad with spaces to a multiple of 8 so the data stays aligned (the spec allows trailing whitespace).
        Array.append raw (Array.create ((8 - raw.Length % 8) % 8) (byte ' '))
    let tmp = target + ".tmp"
    (use input = File.OpenRead source
     use output = File.Create tmp
     use w = new BinaryWriter(output)
     w.Write(uint64 headerBytes.Length)
     w.Write headerBytes
     for _, _, b, e in entries do
         input.Seek(dataStart + b, SeekOrigin.Begin) |> ignore
         let buffer = Array.zeroCreate<byte> (int (e - b))
         input.ReadExactly(buffer, 0, buffer.Length)
         w.Write buffer)
    File.Move(tmp, target, true)
    entries.Length

/// The checkpoint directory a training run's manifest names as `which` ("best" or "last"; best falls back to last
/// when no checkpoint was ranked).
let checkpointDir (runDir: string) (which: string) =
    let manifest = Path.Combine(runDir, "checkpoints", "manifest.json")
    if not (File.Exists manifest) then failwithf "run '%s' has no checkpoints (no %s)" runDir manifest
    let o = JsonNode.Parse(File.ReadAllText manifest)
    let name (key: string) =
        match o[key] with
        | null -> None
        | v -> Some(v.GetValue<string>())
    let chosen =
        match which with
        | "best" -> name "best" |> Option.orElse (name "last")
        | "last" -> name "last"
        | other -> failwithf "checkpoint must be best or last, not '%s'" other
    match chosen with
    | Some n -> Path.Combine(runDir, "checkpoints", n)
    | None -> failwithf "run '%s' has no '%s' checkpoint in %s" runDir which manifest
