// Everything a paper script needs, in one `#load "lib/Lib.fsx"`:
//   Args     — `--profile smoke|quick|full|released`, `--seeds N`, `--results DIR`, `--threads N`, the Profile type
//   DataRoots — real dataset roots for the full profile (REPRODUCE_IMAGENET, …, or data-roots.json)
//   Cli      — train / eval / weights / annotate / probeSeg / probeDepth / analyze / bench / modelInfo, cached run
//              directories (Cli.fsx lists the files it is made of)
//   Results  — mean ± std, measured and Δ rows, unavailable rows, measured.json + report
//   Released — the released profile: official checkpoints (REPRODUCE_WEIGHTS), their URLs, the plan without them
// A script looks like:
//   let args = Args.parse "my-paper.fsx" (function Args.Smoke -> 1 | _ -> 3)
//   let ctx = Cli.context args "my-paper"
//   let runs = Args.seeds args |> List.map (Cli.train ctx (Cli.runConfig "baseline" [ "model.name=vit_tiny_fm28" ]))
//   Results.finish ctx [ Results.row "ablation" "baseline" "top-1 %" None (Cli.metric "top1") runs ] [] |> ignore
#load "Args.fsx" "DataRoots.fsx" "Cli.fsx" "Results.fsx" "Released.fsx"
