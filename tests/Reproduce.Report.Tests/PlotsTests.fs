module Reproduce.Report.Tests.PlotsTests

open System.Text.Json.Nodes
open Xunit
open Reproduce.Report
open Reproduce.Report.Paper
open Reproduce.Report.Tests.TestUtil

let private comparison () =
    let papers = readAll paperDir
    Compare.join "m.json" papers
        (results "quick"
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
let private has path (root: JsonObject) = try at path root |> ignore; true with _ -> false

/// The data rows of a spec, for checks over all of them.
let private data (spec: JsonObject) =
    [ for v in (at "data.values" spec).AsArray() do
          match v with
          | :? JsonObject as o -> yield o
          | _ -> () ]

let private metrics spec = data spec |> List.map (text "metric") |> List.distinct

[<Fact>]
let ``architecture metrics are parameter counts and FLOPs and their overheads, in any case`` () =
    for m in [ "params (M)"; "Params"; " GFLOPs"; "gflops (224 px)"; "Δ% params"; "FLOPs ratio" ] do
        Assert.True(Plots.isArchitectureMetric m, m)
    for m in [ "top-1 %"; "Δ top-1"; "mIoU"; "Δ% rel. error"; "Δ% step time (measured)" ] do
        Assert.False(Plots.isArchitectureMetric m, m)

[<Fact>]
let ``mean ± std bars: one datum per trained row, error bars only where there is a std`` () =
    let spec = Plots.meanStdBars "t" (comparison ()).Rows
    Assert.Equal(Plots.schema, text "$schema" spec)
    // The params and GFLOPs rows have values but are left to the model table.
    Assert.Equal(2, Plots.dataCount spec)
    Assert.Equal<string list>([ "Δ top-1"; "top-1 %" ], metrics spec)
    Assert.Equal(0.2, num "data.values.0.mean" spec, 12)
    Assert.Equal(0.1, num "data.values.0.hi" spec - num "data.values.0.mean" spec, 12)
    Assert.False(has "data.values.1.std" spec)
    Assert.Equal("bar", text "spec.layer.0.mark" spec)
    Assert.Equal("rule", text "spec.layer.1.mark.type" spec)
    Assert.Equal(71.5, num "data.values.1.lo" spec, 12)
    Assert.Equal(71.5, num "data.values.1.hi" spec, 12)
    Assert.Equal("metric", text "facet.row.field" spec)
    Assert.Equal("independent", text "resolve.scale.x" spec)

[<Fact>]
let ``row labels and facet headers are not truncated`` () =
    let rows = (comparison ()).Rows
    for spec in [ Plots.meanStdBars "t" rows; Plots.paperVsReproduced "t" rows; Plots.modelTable "t" rows ] do
        Assert.Equal(0, whole "facet.row.header.labelLimit" spec)
        for layer in [ 0; 1 ] do
            Assert.Equal(0, whole (sprintf "spec.layer.%d.encoding.y.axis.labelLimit" layer) spec)

/// Checks the layering shared by paper-vs-reproduced and the model table: bars by source, and a black rule from
/// lo to hi at the reproduced bar's place (same y and yOffset).
let private assertPairedBarsWithErrorRule (spec: JsonObject) =
    Assert.Equal("bar", text "spec.layer.0.mark" spec)
    Assert.Equal("source", text "spec.layer.0.encoding.color.field" spec)
    Assert.Equal("rule", text "spec.layer.1.mark.type" spec)
    Assert.Equal("black", text "spec.layer.1.mark.color" spec)
    Assert.Equal("datum.source === 'reproduced'", text "spec.layer.1.transform.0.filter" spec)
    for layer in [ 0; 1 ] do
        let enc = sprintf "spec.layer.%d.encoding." layer
        Assert.Equal("label", text (enc + "y.field") spec)
        Assert.Equal("source", text (enc + "yOffset.field") spec)
        Assert.Equal("paper", text (enc + "yOffset.scale.domain.0") spec)
        Assert.Equal("reproduced", text (enc + "yOffset.scale.domain.1") spec)
    Assert.Equal("lo", text "spec.layer.1.encoding.x.field" spec)
    Assert.Equal("hi", text "spec.layer.1.encoding.x2.field" spec)
    Assert.Equal("metric", text "facet.row.field" spec)
    Assert.Equal("independent", text "resolve.scale.y" spec)

[<Fact>]
let ``paper vs reproduced holds only comparable trained rows, the reproduced bar with a ± std rule`` () =
    let spec = Plots.paperVsReproduced "t" (comparison ()).Rows
    // The params row is comparable too, but belongs to the model table.
    Assert.Equal(2, Plots.dataCount spec)
    Assert.Equal<string list>([ "Δ top-1" ], metrics spec)
    Assert.Equal("paper", text "data.values.0.source" spec)
    Assert.Equal(0.1, num "data.values.0.value" spec, 12)
    Assert.False(has "data.values.0.lo" spec)
    Assert.Equal("reproduced", text "data.values.1.source" spec)
    Assert.Equal(0.2, num "data.values.1.value" spec, 12)
    Assert.Equal(0.1, num "data.values.1.lo" spec, 12)
    Assert.Equal(0.3, num "data.values.1.hi" spec, 12)
    Assert.Equal(0.1, num "data.values.1.std" spec, 12)
    assertPairedBarsWithErrorRule spec

[<Fact>]
let ``model table holds the params and GFLOPs rows, with a reproduced bar also where the paper has none`` () =
    let spec = Plots.modelTable "t" (comparison ()).Rows
    Assert.Equal(3, Plots.dataCount spec)
    Assert.Equal<string list>([ "params (M)"; "GFLOPs" ], metrics spec)
    Assert.Equal("paper", text "data.values.0.source" spec)
    Assert.Equal(8.53, num "data.values.0.value" spec, 12)
    Assert.Equal("reproduced", text "data.values.1.source" spec)
    Assert.Equal(8.53472, num "data.values.1.value" spec, 12)
    // One seed: a zero-length rule.
    Assert.Equal(8.53472, num "data.values.1.lo" spec, 12)
    Assert.Equal(8.53472, num "data.values.1.hi" spec, 12)
    Assert.Equal("GFLOPs", text "data.values.2.metric" spec)
    Assert.Equal("reproduced", text "data.values.2.source" spec)
    Assert.Equal(1.9, num "data.values.2.value" spec, 12)
    assertPairedBarsWithErrorRule spec

[<Fact>]
let ``per-block lines: one datum per series and block, x = block, colour = series, legend whole`` () =
    let spec = Plots.perBlockLines "cos" "mean cos" [ "before LN", [ 0, 0.5; 1, 0.4 ]; "after LN", [ 0, 0.1; 1, -0.1 ] ]
    Assert.Equal(4, Plots.dataCount spec)
    Assert.Equal("line", text "mark.type" spec)
    Assert.Equal("block", text "encoding.x.field" spec)
    Assert.Equal("series", text "encoding.color.field" spec)
    Assert.Equal(0, whole "encoding.color.legend.labelLimit" spec)
    Assert.Equal("mean cos", text "encoding.y.title" spec)
    Assert.Equal("after LN", text "data.values.2.series" spec)
    Assert.Equal(-0.1, num "data.values.3.value" spec, 12)
    // One measure: no variant/measure split, no line styles.
    Assert.False(has "data.values.0.variant" spec)
    Assert.False(has "encoding.strokeDash" spec)
    Assert.False(has "encoding.shape" spec)

[<Fact>]
let ``per-block lines named variant — measure: colour = variant, dash and shape = measure, one legend each`` () =
    let spec =
        Plots.perBlockLines "cos" "mean cos"
            [ "norm (LN, all blocks) — cos([CLS], patch) before LN1", [ 0, 0.5; 1, 0.4 ]
              "Baseline — cos([CLS], patch) before LN1", [ 0, 0.3 ]
              "norm (LN, all blocks) — cos([CLS], patch) after LN1", [ 0, 0.1 ] ]
    Assert.Equal("norm (LN, all blocks)", text "data.values.0.variant" spec)
    Assert.Equal("cos([CLS], patch) before LN1", text "data.values.0.measure" spec)
    Assert.Equal("norm (LN, all blocks) — cos([CLS], patch) before LN1", text "data.values.0.series" spec)
    Assert.Equal("Baseline", text "data.values.2.variant" spec)
    Assert.Equal("cos([CLS], patch) after LN1", text "data.values.3.measure" spec)
    Assert.Equal("variant", text "encoding.color.field" spec)
    Assert.Equal(0, whole "encoding.color.legend.labelLimit" spec)
    // Order of first appearance, not alphabetical.
    Assert.Equal("norm (LN, all blocks)", text "encoding.color.scale.domain.0" spec)
    for channel in [ "strokeDash"; "shape"; "strokeWidth"; "strokeOpacity" ] do
        Assert.Equal("measure", text (sprintf "encoding.%s.field" channel) spec)
        Assert.Equal(0, whole (sprintf "encoding.%s.legend.labelLimit" channel) spec)
        // The same explicit domain on every measure channel is what merges their legends into one.
        Assert.Equal("cos([CLS], patch) before LN1", text (sprintf "encoding.%s.scale.domain.0" channel) spec)
        Assert.Equal("cos([CLS], patch) after LN1", text (sprintf "encoding.%s.scale.domain.1" channel) spec)
    // The first measure wide and pale, the later thin and opaque on top.
    Assert.True(num "encoding.strokeWidth.scale.range.0" spec > num "encoding.strokeWidth.scale.range.1" spec)
    Assert.True(num "encoding.strokeOpacity.scale.range.0" spec < num "encoding.strokeOpacity.scale.range.1" spec)

[<Fact>]
let ``per-block lines split at the last separator, and only when every name has one`` () =
    let spec = Plots.perBlockLines "t" "y" [ "a — b — m1", [ 0, 1.0 ]; "c — m2", [ 0, 2.0 ] ]
    Assert.Equal("a — b", text "data.values.0.variant" spec)
    Assert.Equal("m1", text "data.values.0.measure" spec)
    let mixed = Plots.perBlockLines "t" "y" [ "a — m1", [ 0, 1.0 ]; "plain", [ 0, 2.0 ] ]
    Assert.False(has "data.values.0.variant" mixed)
    Assert.Equal("series", text "encoding.color.field" mixed)
    Assert.False(has "encoding.strokeDash" mixed)

[<Fact>]
let ``the readable JSON keeps Δ and ± as characters`` () =
    let text = Plots.toJson (Plots.meanStdBars "Δ ± t" [])
    assertContains "\"Δ ± t\"" text
