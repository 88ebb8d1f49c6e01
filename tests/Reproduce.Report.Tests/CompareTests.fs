module Reproduce.Report.Tests.CompareTests

open Expecto
open Reproduce.Report
open Reproduce.Report.Paper
open Reproduce.Report.Compare
open Reproduce.Report.Measured
open Reproduce.Report.Tests.TestUtil

let internal paperRow id metric kind value : PaperRow =
    { Id = id
      Paper = "token-labeling"
      Table = "t"
      Model = "m"
      Dataset = "ImageNet-1k val"
      Metric = metric
      Kind = kind
      Value = value
      ValueText = None
      Range = None
      ProfileIndependent = false
      Source = "S002"
      Note = None }

let internal papers =
    [ { Paper = "token-labeling"
        Title = "Token Labeling"
        NotFound = []
        Rows =
          [ paperRow "mix" "Δ top-1" Delta (Some 0.1)
            paperRow "abs" "top-1 %" Absolute (Some 79.1)
            { paperRow "params" "params (M)" Absolute (Some 8.53) with ProfileIndependent = true }
            { paperRow "range" "Δ top-1" Delta None with ValueText = Some "+0.5 to +1.5"; Range = Some(0.5, 1.5) }
            { paperRow "words" "Δ top-1" Delta None with ValueText = Some "consistent improvement" } ] } ]

let internal small () =
    let rows =
        [ mrow "ablation" "MixToken vs CutMix" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "mix")
          { mrow "model" "LV-ViT-T, \"tiny\"" "top-1 %" [ 71.5 ] (Some "abs") with Note = Some "a | b" } ]
    join "m.json" papers (results "quick" rows [ { Table = "model"; Row = "LV-ViT-L"; Metric = "top-1 %"; Reason = "needs ImageNet-1k, full profile" } ])

[<Tests>]
let tests =
    testList
        "CompareTests"
        [ testCase "mean and sample std match the closed form"
          <| fun () ->
              let mean, std = meanStd [ 1.0; 2.0; 3.0; 4.0 ]
              Expect.equal mean (Some 2.5) "mean"
              // Σ(x − 2.5)² = 5, divided by n − 1 = 3.
              equalRounded 12 std.Value (sqrt (5.0 / 3.0)) "std.Value"
              Expect.equal (meanStd [ 7.0 ]) (Some 7.0, None) "meanStd [ 7.0 ]"
              Expect.equal (meanStd []) (None, None) "meanStd []"
              let _, same = meanStd [ 2.0; 2.0; 2.0 ]
              Expect.equal same (Some 0.0) "same"

          testCase "metric names say what kind of number a row is"
          <| fun () ->
              Expect.equal (metricKind "Δ top-1") Delta "metricKind \"Δ top-1\""
              Expect.equal (metricKind "delta mIoU") Delta "metricKind \"delta mIoU\""
              Expect.equal (metricKind "Δ% params") Relative "metricKind \"Δ% params\""
              Expect.equal (metricKind "relative RMSE") Relative "metricKind \"relative RMSE\""
              Expect.equal (metricKind "top-1 %") Absolute "metricKind \"top-1 %\""

          testCase "differences are compared, quick absolute values are not, architecture properties always are"
          <| fun () ->
              let c =
                  join
                      "m.json"
                      papers
                      (results
                          "quick"
                          [ mrow "ablation" "MixToken vs CutMix" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "mix")
                            mrow "model" "LV-ViT-T" "top-1 %" [ 71.5 ] (Some "abs")
                            mrow "model" "LV-ViT-T params" "params (M)" [ 8.5 ] (Some "params")
                            mrow "model" "wrong kind" "top-1 %" [ 1.0 ] (Some "mix")
                            mrow "x" "words" "Δ top-1" [ 1.0 ] (Some "words")
                            mrow "x" "no ref" "Δ top-1" [ 1.0 ] None ]
                          [])
              let r = c.Rows |> List.toArray
              Expect.equal (r[0].Comparability) (Comparable "Δ") "r[0].Comparability"
              equalRounded 12 (r[0].Delta.Value) 0.1 "r[0].Delta.Value"
              equalRounded 12 (r[0].Std.Value) 0.1 "r[0].Std.Value"
              Expect.equal (r[1].Comparability) (NotComparable "absolute value on quick-profile data vs the paper's ImageNet-1k val") "r[1].Comparability"
              Expect.equal (r[1].Delta) None "r[1].Delta"
              Expect.equal (r[2].Comparability) (Comparable "absolute (architecture)") "r[2].Comparability"
              equalRounded 9 (r[2].Delta.Value) (-0.03) "r[2].Delta.Value"
              Expect.equal (r[3].Comparability) (NotComparable "paper value is delta, reproduced metric is absolute") "r[3].Comparability"
              Expect.equal (r[4].Comparability) (NoPaperValue "the paper gives no number (consistent improvement)") "r[4].Comparability"
              Expect.equal (r[5].Comparability) (NoPaperValue "no published number for this row") "r[5].Comparability"
              Expect.equal c.Seeds [ 0; 1; 2 ] "c.Seeds"
              Expect.equal c.Title "Token Labeling" "c.Title"

          testCase "absolute values are compared at the full profile"
          <| fun () ->
              let c = join "m.json" papers (results "full" [ mrow "model" "LV-ViT-T" "top-1 %" [ 79.0; 79.4 ] (Some "abs") ] [])
              Expect.equal c.Rows.Head.Comparability (Comparable "absolute") "c.Rows.Head.Comparability"
              equalRounded 9 c.Rows.Head.Delta.Value 0.1 "c.Rows.Head.Delta.Value"

          testCase "a published range gives the distance outside it, and zero inside"
          <| fun () ->
              let range = papers.Head.Rows |> List.find (fun r -> r.Id = "range")
              Expect.equal (delta 1.0 range) (Some 0.0) "delta 1.0 range"
              equalRounded 12 ((delta 0.25 range).Value) (-0.25) "(delta 0.25 range).Value"
              equalRounded 12 ((delta 2.0 range).Value) 0.5 "(delta 2.0 range).Value"
              let c = join "m.json" papers (results "quick" [ mrow "x" "in" "Δ top-1" [ 1.0 ] (Some "range") ] [])
              Expect.equal (deltaText c.Rows.Head) "in range" "deltaText c.Rows.Head"

          testCase "an unknown paper_ref or a values/seeds mismatch names the measured file"
          <| fun () ->
              let m =
                  throwsMessage (fun () ->
                      join "results/quick/tl/measured.json" papers (results "quick" [ mrow "a" "b" "Δ top-1" [ 1.0 ] (Some "nope") ] []) |> ignore)
              assertContains "results/quick/tl/measured.json" m
              assertContains "paper_ref 'nope'" m
              let bad = { mrow "a" "b" "Δ top-1" [ 1.0; 2.0 ] None with Seeds = [ 0 ] }
              assertContains "2 values for 1 seeds" (throwsMessage (fun () -> join "m.json" papers (results "quick" [ bad ] []) |> ignore))

          testCase "the CSV is exact for a small case, quoting commas and quotes"
          <| fun () ->
              let expected =
                  "table,row,metric,paper_ref,paper,reproduced,mean,std,n,seeds,delta,direction,status,reason,profile,note\r\n"
                  + "ablation,MixToken vs CutMix,Δ top-1,mix,0.1,0.20 ± 0.10,0.2,0.1,3,0;1;2,0.1,same sign as paper,compared,Δ,quick,\r\n"
                  + "model,\"LV-ViT-T, \"\"tiny\"\"\",top-1 %,abs,79.1,71.5,71.5,,1,0,,,not comparable,absolute value on quick-profile data vs the paper's ImageNet-1k val,quick,a | b\r\n"
                  + "model,LV-ViT-L,top-1 %,,,,,,0,,,,unavailable,\"needs ImageNet-1k, full profile\",quick,\r\n"
              Expect.equal (csv (small ())) expected "csv (small ())"

          testCase "direction reads the sign against the paper's, and says when seeds cannot tell"
          <| fun () ->
              let dir rows = (join "m.json" papers (results "quick" rows [])).Rows |> List.map direction
              // mean 0.2, std 0.1, n 3: 2·SE = 0.115 < 0.2 → clear of noise, same sign as +0.1.
              Expect.equal (dir [ mrow "a" "b" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "mix") ]) [ "same sign as paper" ] "direction of +0.2 ± 0.1 vs +0.1"
              Expect.equal (dir [ mrow "a" "b" "Δ top-1" [ -0.3; -0.1; -0.2 ] (Some "mix") ]) [ "opposite sign to paper" ] "direction of -0.2 ± 0.1 vs +0.1"
              // mean 0.1, std 1: within 2·SE.
              Expect.equal (dir [ mrow "a" "b" "Δ top-1" [ 1.1; -0.9; 0.1 ] (Some "mix") ]) [ "within seed noise" ] "direction of +0.1 ± 1 vs +0.1"
              Expect.equal (dir [ mrow "a" "b" "Δ top-1" [ -2.0 ] (Some "mix") ]) [ "1 seed: opposite sign to paper" ] "direction of one seed at -2 vs +0.1"
              // A range counts by its middle (+1.0); absolute and architecture rows get no direction.
              Expect.equal (dir [ mrow "a" "b" "Δ top-1" [ 3.0; 3.2 ] (Some "range") ]) [ "same sign as paper" ] "direction of +3.1 vs the range +0.5 to +1.5"
              Expect.equal
                  (dir [ mrow "m" "t" "top-1 %" [ 70.0 ] (Some "abs"); mrow "m" "p" "params (M)" [ 8.5 ] (Some "params") ])
                  [ ""; "" ]
                  "direction of absolute and architecture rows"

          testCase "CSV fields are quoted exactly when RFC 4180 requires it"
          <| fun () ->
              Expect.equal (csvField "plain") "plain" "csvField \"plain\""
              Expect.equal (csvField "a,b") "\"a,b\"" "csvField \"a,b\""
              Expect.equal (csvField "say \"hi\"") "\"say \"\"hi\"\"\"" "csvField \"say \\\"hi\\\"\""
              Expect.equal (csvField "two\nlines") "\"two\nlines\"" "csvField \"two\\nlines\""
              Expect.equal (csvField "cr\rhere") "\"cr\rhere\"" "csvField \"cr\\rhere\""
              Expect.equal (csvField "") "" "csvField \"\"" ]
