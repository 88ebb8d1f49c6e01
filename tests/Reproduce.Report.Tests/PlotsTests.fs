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
              mrow "model" "empty" "top-1 %" [] None ]
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
let private has path (root: JsonObject) = try at path root |> ignore; true with _ -> false

[<Fact>]
let ``mean ± std bars: one datum per row with values, error bars only where there is a std`` () =
    let spec = Plots.meanStdBars "t" (comparison ()).Rows
    Assert.Equal(Plots.schema, text "$schema" spec)
    Assert.Equal(2, Plots.dataCount spec)
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
let ``paper vs reproduced holds only comparable rows, one paper and one reproduced bar each`` () =
    let spec = Plots.paperVsReproduced "t" (comparison ()).Rows
    Assert.Equal(2, Plots.dataCount spec)
    Assert.Equal("paper", text "data.values.0.source" spec)
    Assert.Equal(0.1, num "data.values.0.value" spec, 12)
    Assert.Equal("reproduced", text "data.values.1.source" spec)
    Assert.Equal(0.2, num "data.values.1.value" spec, 12)
    Assert.Equal("source", text "spec.layer.0.encoding.yOffset.field" spec)
    Assert.Equal("source", text "spec.layer.0.encoding.color.field" spec)

[<Fact>]
let ``per-block lines: one datum per series and block, x = block, colour = series`` () =
    let spec = Plots.perBlockLines "cos" "mean cos" [ "before LN", [ 0, 0.5; 1, 0.4 ]; "after LN", [ 0, 0.1; 1, -0.1 ] ]
    Assert.Equal(4, Plots.dataCount spec)
    Assert.Equal("line", text "mark.type" spec)
    Assert.Equal("block", text "encoding.x.field" spec)
    Assert.Equal("series", text "encoding.color.field" spec)
    Assert.Equal("mean cos", text "encoding.y.title" spec)
    Assert.Equal("after LN", text "data.values.2.series" spec)
    Assert.Equal(-0.1, num "data.values.3.value" spec, 12)

[<Fact>]
let ``the readable JSON keeps Δ and ± as characters`` () =
    let text = Plots.toJson (Plots.meanStdBars "Δ ± t" [])
    assertContains "\"Δ ± t\"" text
