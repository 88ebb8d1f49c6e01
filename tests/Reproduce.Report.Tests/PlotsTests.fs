module Reproduce.Report.Tests.PlotsTests

open System.Text.Json.Nodes
open Expecto
open Reproduce.Report
open Reproduce.Report.Paper
open Reproduce.Report.Tests.TestUtil

let private comparison () =
    let papers = readAll paperDir
    Compare.join
        "m.json"
        papers
        (results
            "quick"
            [ mrow "ablation" "MixToken vs CutMix" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "tl-ablation-mixtoken-vs-cutmix-in-labels")
              mrow "model" "LV-ViT-T" "top-1 %" [ 71.5 ] (Some "tl-model-lvvit-t-224-top1")
              mrow "model" "empty" "top-1 %" [] None
              // Architecture rows: a comparable parameter count, and GFLOPs without a paper value.
              mrow "model table" "LV-ViT-T @224" "params (M)" [ 8.53472 ] (Some "tl-model-lvvit-t-224-params")
              mrow "model table" "LV-ViT-T @224" "GFLOPs" [ 1.9 ] None ]
            [])

/// The node at a path of keys (numbers index arrays); fails the test naming the path when absent.
let private at (path: string) (root: JsonObject) : JsonNode =
    let step (n: JsonNode | null) (key: string) : JsonNode | null =
        match n, System.Int32.TryParse key with
        | :? JsonArray as a, (true, i) when i < a.Count -> a[i]
        | :? JsonObject as o, _ -> o[key]
        | _ -> null
    match path.Split '.' |> Array.fold step (root :> JsonNode | null) with
    | null -> failwithf "no node at %s in %s" path (root.ToJsonString())
    | n -> n

let private text path root = (at path root).GetValue<string>()
let private num path root = (at path root).GetValue<float>()
let private whole path root = (at path root).GetValue<int>()
let private has path (root: JsonObject) =
    try
        at path root |> ignore
        true
    with _ ->
        false

/// The data rows of a spec, for checks over all of them.
let private data (spec: JsonObject) =
    [ for v in (at "data.values" spec).AsArray() do
          match v with
          | :? JsonObject as o -> yield o
          | _ -> () ]

let private metrics spec = data spec |> List.map (text "metric") |> List.distinct

/// Checks the layering shared by paper-vs-reproduced and the model table: bars by source, and a black rule from
/// lo to hi at the reproduced bar's place (same y and yOffset).
let private assertPairedBarsWithErrorRule (spec: JsonObject) =
    Expect.equal (text "spec.layer.0.mark" spec) "bar" "spec.layer.0.mark"
    Expect.equal (text "spec.layer.0.encoding.color.field" spec) "source" "spec.layer.0.encoding.color.field"
    Expect.equal (text "spec.layer.1.mark.type" spec) "rule" "spec.layer.1.mark.type"
    Expect.equal (text "spec.layer.1.mark.color" spec) "black" "spec.layer.1.mark.color"
    Expect.equal (text "spec.layer.1.transform.0.filter" spec) "datum.source === 'reproduced'" "spec.layer.1.transform.0.filter"
    for layer in [ 0; 1 ] do
        let enc = sprintf "spec.layer.%d.encoding." layer
        Expect.equal (text (enc + "y.field") spec) "label" (enc + "y.field")
        Expect.equal (text (enc + "yOffset.field") spec) "source" (enc + "yOffset.field")
        Expect.equal (text (enc + "yOffset.scale.domain.0") spec) "paper" (enc + "yOffset.scale.domain.0")
        Expect.equal (text (enc + "yOffset.scale.domain.1") spec) "reproduced" (enc + "yOffset.scale.domain.1")
    Expect.equal (text "spec.layer.1.encoding.x.field" spec) "lo" "spec.layer.1.encoding.x.field"
    Expect.equal (text "spec.layer.1.encoding.x2.field" spec) "hi" "spec.layer.1.encoding.x2.field"
    Expect.equal (text "facet.row.field" spec) "metric" "facet.row.field"
    Expect.equal (text "resolve.scale.y" spec) "independent" "resolve.scale.y"

[<Tests>]
let tests =
    testList
        "PlotsTests"
        [ testCase "architecture metrics are parameter counts and FLOPs and their overheads, in any case"
          <| fun () ->
              for m in [ "params (M)"; "Params"; " GFLOPs"; "gflops (224 px)"; "Δ% params"; "FLOPs ratio" ] do
                  Expect.isTrue (Plots.isArchitectureMetric m) m
              for m in [ "top-1 %"; "Δ top-1"; "mIoU"; "Δ% rel. error"; "Δ% step time (measured)" ] do
                  Expect.isFalse (Plots.isArchitectureMetric m) m

          testCase "mean ± std bars: one datum per trained row, error bars only where there is a std"
          <| fun () ->
              let spec = Plots.meanStdBars "t" (comparison ()).Rows
              Expect.equal (text "$schema" spec) Plots.schema "$schema"
              // The params and GFLOPs rows have values but are left to the model table.
              Expect.equal (Plots.dataCount spec) 2 "Plots.dataCount spec"
              Expect.equal (metrics spec) [ "Δ top-1"; "top-1 %" ] "metrics spec"
              equalRounded 12 (num "data.values.0.mean" spec) 0.2 "data.values.0.mean"
              equalRounded 12 (num "data.values.0.hi" spec - num "data.values.0.mean" spec) 0.1 "data.values.0.hi - data.values.0.mean"
              Expect.isFalse (has "data.values.1.std" spec) "data.values.1.std"
              Expect.equal (text "spec.layer.0.mark" spec) "bar" "spec.layer.0.mark"
              Expect.equal (text "spec.layer.1.mark.type" spec) "rule" "spec.layer.1.mark.type"
              equalRounded 12 (num "data.values.1.lo" spec) 71.5 "data.values.1.lo"
              equalRounded 12 (num "data.values.1.hi" spec) 71.5 "data.values.1.hi"
              Expect.equal (text "facet.row.field" spec) "metric" "facet.row.field"
              Expect.equal (text "resolve.scale.x" spec) "independent" "resolve.scale.x"

          testCase "row labels and facet headers are not truncated"
          <| fun () ->
              let rows = (comparison ()).Rows
              for spec in [ Plots.meanStdBars "t" rows; Plots.paperVsReproduced "t" rows; Plots.modelTable "t" rows ] do
                  Expect.equal (whole "facet.row.header.labelLimit" spec) 0 "facet.row.header.labelLimit"
                  for layer in [ 0; 1 ] do
                      Expect.equal
                          (whole (sprintf "spec.layer.%d.encoding.y.axis.labelLimit" layer) spec)
                          0
                          (sprintf "spec.layer.%d.encoding.y.axis.labelLimit" layer)

          testCase "paper vs reproduced plots exactly the claims it is given, the reproduced bar with a ± std rule"
          <| fun () ->
              let c = comparison ()
              let spec = Plots.paperVsReproduced "t" (Summary.claims c).Rows
              // The claims: the Δ row and the comparable parameter count, each with its paper bar.
              Expect.equal (Plots.dataCount spec) 4 "Plots.dataCount spec"
              Expect.equal (metrics spec) [ "Δ top-1"; "params (M)" ] "metrics spec"
              Expect.equal (text "data.values.0.source" spec) "paper" "data.values.0.source"
              equalRounded 12 (num "data.values.0.value" spec) 0.1 "data.values.0.value"
              Expect.isFalse (has "data.values.0.lo" spec) "data.values.0.lo"
              Expect.equal (text "data.values.1.source" spec) "reproduced" "data.values.1.source"
              equalRounded 12 (num "data.values.1.value" spec) 0.2 "data.values.1.value"
              equalRounded 12 (num "data.values.1.lo" spec) 0.1 "data.values.1.lo"
              equalRounded 12 (num "data.values.1.hi" spec) 0.3 "data.values.1.hi"
              equalRounded 12 (num "data.values.1.std" spec) 0.1 "data.values.1.std"
              assertPairedBarsWithErrorRule spec
              // A row without a comparable paper value gets its reproduced bar alone.
              let uncompared = c.Rows |> List.filter (fun r -> r.Measured.Metric = "GFLOPs")
              let alone = Plots.paperVsReproduced "t" uncompared
              Expect.equal (Plots.dataCount alone) 1 "Plots.dataCount alone"
              Expect.equal (text "data.values.0.source" alone) "reproduced" "data.values.0.source of a row without paper value"

          testCase "model table holds the params and GFLOPs rows, with a reproduced bar also where the paper has none"
          <| fun () ->
              let spec = Plots.modelTable "t" (comparison ()).Rows
              Expect.equal (Plots.dataCount spec) 3 "Plots.dataCount spec"
              Expect.equal (metrics spec) [ "params (M)"; "GFLOPs" ] "metrics spec"
              Expect.equal (text "data.values.0.source" spec) "paper" "data.values.0.source"
              equalRounded 12 (num "data.values.0.value" spec) 8.53 "data.values.0.value"
              Expect.equal (text "data.values.1.source" spec) "reproduced" "data.values.1.source"
              equalRounded 12 (num "data.values.1.value" spec) 8.53472 "data.values.1.value"
              // One seed: a zero-length rule.
              equalRounded 12 (num "data.values.1.lo" spec) 8.53472 "data.values.1.lo"
              equalRounded 12 (num "data.values.1.hi" spec) 8.53472 "data.values.1.hi"
              Expect.equal (text "data.values.2.metric" spec) "GFLOPs" "data.values.2.metric"
              Expect.equal (text "data.values.2.source" spec) "reproduced" "data.values.2.source"
              equalRounded 12 (num "data.values.2.value" spec) 1.9 "data.values.2.value"
              assertPairedBarsWithErrorRule spec

          testCase "per-block lines: one datum per series and block, x = block, colour = series, legend whole"
          <| fun () ->
              let spec = Plots.perBlockLines "cos" "mean cos" [ "before LN", [ 0, 0.5; 1, 0.4 ]; "after LN", [ 0, 0.1; 1, -0.1 ] ]
              Expect.equal (Plots.dataCount spec) 4 "Plots.dataCount spec"
              Expect.equal (text "mark.type" spec) "line" "mark.type"
              Expect.equal (text "encoding.x.field" spec) "block" "encoding.x.field"
              Expect.equal (text "encoding.color.field" spec) "series" "encoding.color.field"
              Expect.equal (whole "encoding.color.legend.labelLimit" spec) 0 "encoding.color.legend.labelLimit"
              Expect.equal (text "encoding.y.title" spec) "mean cos" "encoding.y.title"
              Expect.equal (text "data.values.2.series" spec) "after LN" "data.values.2.series"
              equalRounded 12 (num "data.values.3.value" spec) (-0.1) "data.values.3.value"
              // One measure: no variant/measure split, no line styles.
              Expect.isFalse (has "data.values.0.variant" spec) "data.values.0.variant"
              Expect.isFalse (has "encoding.strokeDash" spec) "encoding.strokeDash"
              Expect.isFalse (has "encoding.shape" spec) "encoding.shape"

          testCase "per-block lines named variant — measure: colour = variant, dash and shape = measure, one legend each"
          <| fun () ->
              let spec =
                  Plots.perBlockLines
                      "cos"
                      "mean cos"
                      [ "norm (LN, all blocks) — cos([CLS], patch) before LN1", [ 0, 0.5; 1, 0.4 ]
                        "Baseline — cos([CLS], patch) before LN1", [ 0, 0.3 ]
                        "norm (LN, all blocks) — cos([CLS], patch) after LN1", [ 0, 0.1 ] ]
              Expect.equal (text "data.values.0.variant" spec) "norm (LN, all blocks)" "data.values.0.variant"
              Expect.equal (text "data.values.0.measure" spec) "cos([CLS], patch) before LN1" "data.values.0.measure"
              Expect.equal (text "data.values.0.series" spec) "norm (LN, all blocks) — cos([CLS], patch) before LN1" "data.values.0.series"
              Expect.equal (text "data.values.2.variant" spec) "Baseline" "data.values.2.variant"
              Expect.equal (text "data.values.3.measure" spec) "cos([CLS], patch) after LN1" "data.values.3.measure"
              Expect.equal (text "encoding.color.field" spec) "variant" "encoding.color.field"
              Expect.equal (whole "encoding.color.legend.labelLimit" spec) 0 "encoding.color.legend.labelLimit"
              // Order of first appearance, not alphabetical.
              Expect.equal (text "encoding.color.scale.domain.0" spec) "norm (LN, all blocks)" "encoding.color.scale.domain.0"
              for channel in [ "strokeDash"; "shape"; "strokeWidth"; "strokeOpacity" ] do
                  Expect.equal (text (sprintf "encoding.%s.field" channel) spec) "measure" (sprintf "encoding.%s.field" channel)
                  Expect.equal (whole (sprintf "encoding.%s.legend.labelLimit" channel) spec) 0 (sprintf "encoding.%s.legend.labelLimit" channel)
                  // The same explicit domain on every measure channel is what merges their legends into one.
                  Expect.equal
                      (text (sprintf "encoding.%s.scale.domain.0" channel) spec)
                      "cos([CLS], patch) before LN1"
                      (sprintf "encoding.%s.scale.domain.0" channel)
                  Expect.equal
                      (text (sprintf "encoding.%s.scale.domain.1" channel) spec)
                      "cos([CLS], patch) after LN1"
                      (sprintf "encoding.%s.scale.domain.1" channel)
              // The first measure wide and pale, the later thin and opaque on top.
              Expect.isTrue
                  (num "encoding.strokeWidth.scale.range.0" spec > num "encoding.strokeWidth.scale.range.1" spec)
                  "the first measure's stroke is wider"
              Expect.isTrue
                  (num "encoding.strokeOpacity.scale.range.0" spec < num "encoding.strokeOpacity.scale.range.1" spec)
                  "the first measure's stroke is paler"

          testCase "per-block lines split at the last separator, and only when every name has one"
          <| fun () ->
              let spec = Plots.perBlockLines "t" "y" [ "a — b — m1", [ 0, 1.0 ]; "c — m2", [ 0, 2.0 ] ]
              Expect.equal (text "data.values.0.variant" spec) "a — b" "data.values.0.variant"
              Expect.equal (text "data.values.0.measure" spec) "m1" "data.values.0.measure"
              let mixed = Plots.perBlockLines "t" "y" [ "a — m1", [ 0, 1.0 ]; "plain", [ 0, 2.0 ] ]
              Expect.isFalse (has "data.values.0.variant" mixed) "data.values.0.variant"
              Expect.equal (text "encoding.color.field" mixed) "series" "encoding.color.field"
              Expect.isFalse (has "encoding.strokeDash" mixed) "encoding.strokeDash"

          testCase "the readable JSON keeps Δ and ± as characters"
          <| fun () ->
              let text = Plots.toJson (Plots.meanStdBars "Δ ± t" [])
              assertContains "\"Δ ± t\"" text ]
