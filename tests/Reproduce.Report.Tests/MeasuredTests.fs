module Reproduce.Report.Tests.MeasuredTests

open System.IO
open Expecto
open Reproduce.Report
open Reproduce.Report.Measured
open Reproduce.Report.Tests.TestUtil

let private sample =
    results
        "quick"
        [ { mrow "ablation" "TL + MixToken" "Δ top-1" [ 0.25; -0.5 ] (Some "tl-ablation-mixtoken-vs-cutmix-in-labels") with
              Runs = [ "quick/token-labeling/runs/abc" ]
              Note = Some "seed 1 diverged early" }
          mrow "model" "LV-ViT-T" "top-1 %" [ 71.5 ] None ]
        [ { Table = "model"; Row = "LV-ViT-L"; Metric = "top-1 %"; Reason = "needs ImageNet-1k" } ]

[<Tests>]
let tests =
    testList
        "MeasuredTests"
        [ testCase "measured.json round-trips through write and read"
          <| fun () ->
              use dir = new TempDir()
              let path = Path.Combine(dir.Path, "quick", "token-labeling", "measured.json")
              write path sample
              Expect.equal (read path) sample "read path"
              Expect.isFalse (File.Exists(path + ".tmp")) "File.Exists(path + \".tmp\")"

          testCase "toJson uses the snake_case keys of the contract"
          <| fun () ->
              let text = toJson sample
              for key in [ "\"paper\""; "\"profile\""; "\"hardware\""; "\"command\""; "\"rows\""; "\"paper_ref\""; "\"unavailable\""; "\"reason\"" ] do
                  assertContains key text

          testCase "a missing key is reported with the file and the key"
          <| fun () ->
              let text = (toJson sample).Replace("\"hardware\"", "\"hw\"")
              let m = throwsMessage (fun () -> ofJson "results/quick/x/measured.json" text |> ignore)
              assertContains "results/quick/x/measured.json" m
              assertContains "'hardware'" m

          testCase "a value of the wrong type and invalid JSON are reported with the file"
          <| fun () ->
              let text = (toJson sample).Replace("0.25", "\"a quarter\"")
              assertContains "'values'" (throwsMessage (fun () -> ofJson "m.json" text |> ignore))
              assertContains "bad.json: invalid JSON" (throwsMessage (fun () -> ofJson "bad.json" "{\"paper\": " |> ignore)) ]
