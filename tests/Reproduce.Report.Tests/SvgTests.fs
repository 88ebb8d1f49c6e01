module Reproduce.Report.Tests.SvgTests

open System.IO
open Expecto
open Reproduce.Report
open Reproduce.Report.Tests.TestUtil

// These tests need tools/vega-render/node_modules, which `dotnet fsi build.fsx test` installs through its deps
// step. They fail (with that hint) rather than skip when it is missing: a silent skip would hide a broken deps step.

/// Renders a spec through the real renderer and returns the SVG text.
let private renderSvg (spec: System.Text.Json.Nodes.JsonObject) =
    use dir = new TempDir()
    let input = Path.Combine(dir.Path, "p.vl.json")
    let output = Path.Combine(dir.Path, "p.svg")
    File.WriteAllText(input, Plots.toJson spec)
    Svg.render input output
    File.ReadAllText output

[<Tests>]
let tests =
    testList
        "SvgTests"
        [ testCase "the renderer and its npm packages are installed" <| fun () -> Svg.checkInstalled (Svg.toolDir ())

          testCase "a small spec renders to an SVG with its marks and labels"
          <| fun () ->
              use dir = new TempDir()
              let spec = Plots.perBlockLines "cosine per block" "mean cos" [ "before LN", [ 0, 0.5; 1, 0.25; 2, 0.125 ] ]
              let input = Path.Combine(dir.Path, "lines.vl.json")
              let output = Path.Combine(dir.Path, "lines.svg")
              File.WriteAllText(input, Plots.toJson spec)
              Svg.render input output
              let svg = File.ReadAllText output
              Expect.stringStarts svg "<svg" "svg"
              assertContains "cosine per block" svg
              assertContains "before LN" svg
              assertContains "aria-roledescription=\"line mark\"" svg
              Expect.isFalse (File.Exists(output + ".tmp")) "File.Exists(output + \".tmp\")"

          testCase "long row labels and series names render whole, not cut with an ellipsis"
          <| fun () ->
              let label = "segmentation transfer (FCN): ViT + FCN, without token labeling → with token labeling, 64 px"
              let c =
                  Compare.join
                      "x"
                      (Paper.readAll paperDir)
                      (results
                          "quick"
                          [ mrow "segmentation transfer (FCN)" "ViT + FCN, without token labeling → with token labeling, 64 px" "Δ mIoU" [ 0.1; 0.3 ] None ]
                          [])
              let bars = renderSvg (Plots.meanStdBars "t" c.Rows)
              assertContains label bars
              assertNotContains "…" bars
              let series = "norm (LN, all blocks) — cos([CLS], patch) after the pre-attention LayerNorm of every block"
              let lines = renderSvg (Plots.perBlockLines "t" "y" [ series, [ 0, 0.5; 1, 0.4 ] ])
              assertContains "norm (LN, all blocks)" lines
              assertContains "cos([CLS], patch) after the pre-attention LayerNorm of every block" lines
              assertNotContains "…" lines

          testCase "paper vs reproduced renders an error rule on the reproduced bar"
          <| fun () ->
              let c =
                  Compare.join
                      "x"
                      (Paper.readAll paperDir)
                      (results "quick" [ mrow "ablation" "MixToken vs CutMix" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "tl-ablation-mixtoken-vs-cutmix-in-labels") ] [])
              let svg = renderSvg (Plots.paperVsReproduced "t" c.Rows)
              assertContains "aria-roledescription=\"rule mark\"" svg
              Expect.equal (System.Text.RegularExpressions.Regex.Count(svg, "aria-roledescription=\"bar\"")) 2 "bar marks"

          testCase "variant — measure lines render dashed, with one merged measure legend"
          <| fun () ->
              let svg =
                  renderSvg (
                      Plots.perBlockLines "t" "y" [ "A — before", [ 0, 0.5; 1, 0.4 ]; "A — after", [ 0, 0.5; 1, 0.3 ]; "B — before", [ 0, 0.2; 1, 0.1 ] ]
                  )
              assertContains "stroke-dasharray=\"4,2\"" svg
              // strokeDash, shape, width and opacity share one legend titled "measure"; colour has its own.
              Expect.equal (System.Text.RegularExpressions.Regex.Count(svg, ">measure<")) 1 "legends titled measure"
              Expect.equal (System.Text.RegularExpressions.Regex.Count(svg, ">variant<")) 1 "legends titled variant"

          testCase "many specs render in one call, and a bad one is named in the error"
          <| fun () ->
              use dir = new TempDir()
              let ok = Path.Combine(dir.Path, "ok.vl.json")
              let bad = Path.Combine(dir.Path, "bad.vl.json")
              File.WriteAllText(ok, Plots.toJson (Plots.perBlockLines "a" "y" [ "s", [ 0, 1.0 ] ]))
              File.WriteAllText(bad, "{ not json")
              let m = throwsMessage (fun () -> Svg.renderMany [ ok, Path.Combine(dir.Path, "ok.svg"); bad, Path.Combine(dir.Path, "bad.svg") ])
              assertContains "bad.vl.json" m
              // The good spec of the same batch still rendered; the bad one left nothing behind.
              Expect.isTrue (File.Exists(Path.Combine(dir.Path, "ok.svg"))) "File.Exists(Path.Combine(dir.Path, \"ok.svg\"))"
              Expect.isFalse (File.Exists(Path.Combine(dir.Path, "bad.svg"))) "File.Exists(Path.Combine(dir.Path, \"bad.svg\"))"

          testCase "a renderer folder without packages fails with the install command"
          <| fun () ->
              use dir = new TempDir()
              File.WriteAllText(Path.Combine(dir.Path, "render.mjs"), "")
              let m = throwsMessage (fun () -> Svg.checkInstalled dir.Path)
              assertContains "dotnet fsi build.fsx deps" m ]
