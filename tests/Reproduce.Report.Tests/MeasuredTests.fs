module Reproduce.Report.Tests.MeasuredTests

open System.IO
open Xunit
open Reproduce.Report
open Reproduce.Report.Measured
open Reproduce.Report.Tests.TestUtil

let private sample =
    results "quick"
        [ { mrow "ablation" "TL + MixToken" "Δ top-1" [ 0.25; -0.5 ] (Some "tl-ablation-mixtoken-vs-cutmix-in-labels") with
              Runs = [ "quick/token-labeling/runs/abc" ]
              Note = Some "seed 1 diverged early" }
          mrow "model" "LV-ViT-T" "top-1 %" [ 71.5 ] None ]
        [ { Table = "model"; Row = "LV-ViT-L"; Metric = "top-1 %"; Reason = "needs ImageNet-1k" } ]

[<Fact>]
let ``measured.json round-trips through write and read`` () =
    use dir = new TempDir()
    let path = Path.Combine(dir.Path, "quick", "token-labeling", "measured.json")
    write path sample
    Assert.Equal(sample, read path)
    Assert.False(File.Exists(path + ".tmp"))

[<Fact>]
let ``toJson uses the snake_case keys of the contract`` () =
    let text = toJson sample
    for key in [ "\"paper\""; "\"profile\""; "\"hardware\""; "\"command\""; "\"rows\""; "\"paper_ref\""; "\"unavailable\""; "\"reason\"" ] do
        assertContains key text

[<Fact>]
let ``a missing key is reported with the file and the key`` () =
    let text = (toJson sample).Replace("\"hardware\"", "\"hw\"")
    let m = throwsMessage (fun () -> ofJson "results/quick/x/measured.json" text |> ignore)
    assertContains "results/quick/x/measured.json" m
    assertContains "'hardware'" m

[<Fact>]
let ``a value of the wrong type and invalid JSON are reported with the file`` () =
    let text = (toJson sample).Replace("0.25", "\"a quarter\"")
    assertContains "'values'" (throwsMessage (fun () -> ofJson "m.json" text |> ignore))
    assertContains "bad.json: invalid JSON" (throwsMessage (fun () -> ofJson "bad.json" "{\"paper\": " |> ignore))
