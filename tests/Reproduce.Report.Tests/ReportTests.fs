module Reproduce.Report.Tests.ReportTests

open System.IO
open Expecto
open Reproduce.Report
open Reproduce.Report.Tests.TestUtil

/// A results root with the committed paper references, as the scripts see it.
let private resultsRoot (dir: TempDir) =
    let root = Path.Combine(dir.Path, "results")
    Directory.CreateDirectory(Path.Combine(root, "paper")) |> ignore
    for f in Directory.GetFiles(paperDir, "*.json") do
        File.Copy(f, Path.Combine(root, "paper", Io.fileName f))
    root

let private measured =
    results
        "quick"
        [ mrow "ablation" "MixToken vs CutMix" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "tl-ablation-mixtoken-vs-cutmix-in-labels")
          mrow "model" "LV-ViT-T <tiny>" "top-1 %" [ 71.5 ] (Some "tl-model-lvvit-t-224-top1")
          mrow "model table" "LV-ViT-T @224" "params (M)" [ 8.53472 ] (Some "tl-model-lvvit-t-224-params") ]
        [ { Table = "model"; Row = "LV-ViT-L @512"; Metric = "top-1 %"; Reason = "needs ImageNet-1k: full profile" } ]

[<Tests>]
let tests =
    testList
        "ReportTests"
        [ testCase "writePaper writes the tables, the plots and a self-contained page"
          <| fun () ->
              use dir = new TempDir()
              let root = resultsRoot dir
              let extra = [ "cosine-per-block", Plots.perBlockLines "cos" "mean cos" [ "before LN", [ 0, 0.5; 1, 0.4 ] ] ]
              Report.writePaper root measured extra
              let out = Path.Combine(root, "quick", "token-labeling")
              for name in [ "measured.json"; "table.md"; "table.csv"; "index.html" ] do
                  Expect.isTrue (File.Exists(Path.Combine(out, name))) name
              for plot in [ "mean-std"; "paper-vs-reproduced"; "model-table"; "cosine-per-block" ] do
                  Expect.isTrue (File.Exists(Path.Combine(out, plot + ".vl.json"))) plot
                  Expect.stringStarts (File.ReadAllText(Path.Combine(out, plot + ".svg"))) "<svg" (plot + ".svg")
              Expect.equal (Measured.read (Path.Combine(out, "measured.json"))) measured "measured.json"
              let c = Compare.join "x" (Paper.readAll (Path.Combine(root, "paper"))) measured
              Expect.equal (File.ReadAllText(Path.Combine(out, "table.md"))) (Markdown.page (Some "paper-vs-reproduced.svg") c) "table.md"
              Expect.equal (File.ReadAllText(Path.Combine(out, "table.csv"))) (Compare.csv c) "table.csv"
              let html = File.ReadAllText(Path.Combine(out, "index.html"))
              // Self-contained: the bundles are inline, nothing is fetched.
              assertNotContains "<script src" html
              assertNotContains "cdn.jsdelivr" html
              assertContains "vegaEmbed('#plot-0'" html
              assertContains "LV-ViT-T &lt;tiny&gt;" html
              assertContains "needs ImageNet-1k: full profile" html
              Expect.isEmpty (Directory.GetFiles(out, "*.tmp")) "no *.tmp file left in the output folder"

          testCase "writeIndex lists every profile and paper with its heading and table"
          <| fun () ->
              use dir = new TempDir()
              let root = resultsRoot dir
              Report.writePaper root measured []
              Report.writeIndex root
              let readme = File.ReadAllText(Path.Combine(root, "README.md"))
              assertContains "— profile `quick`" readme
              assertContains "- hardware: CPU, 2 threads" readme
              assertContains "- command: `dotnet fsi scripts/token-labeling.fsx --profile quick`" readme
              assertContains "[table.md](quick/token-labeling/table.md)" readme
              assertContains "[mean-std.svg](quick/token-labeling/mean-std.svg)" readme
              assertContains "### Claims compared with the paper" readme
              assertContains "| ablation | MixToken vs CutMix | Δ top-1 | +0.1 | 0.20 ± 0.10 | 3 | +0.10 | same sign as paper |" readme
              assertContains "![Claims compared with the paper: the rows above, mean ± std](quick/token-labeling/paper-vs-reproduced.svg)" readme
              // The section leads with its claims: the claims table comes before the supporting rows.
              Expect.isLessThan (readme.IndexOf "### Claims compared with the paper") (readme.IndexOf "### Supporting rows") "claims before supporting rows"
              assertContains "### Rows this profile cannot produce" readme
              assertContains "[paper/token-labeling.json](paper/token-labeling.json)" readme

          testCase "an index with no results says how to make them"
          <| fun () ->
              use dir = new TempDir()
              let root = resultsRoot dir
              Report.writeIndex root
              assertContains "No reproduction table has been produced yet" (File.ReadAllText(Path.Combine(root, "README.md")))

          testCase "plot names and folder names from scripts are checked"
          <| fun () ->
              use dir = new TempDir()
              let root = resultsRoot dir
              let spec () = Plots.perBlockLines "a" "y" [ "s", [ 0, 1.0 ] ]
              for name in Report.builtInPlots do
                  assertContains "reserved" (throwsMessage (fun () -> Report.writePaper root measured [ name, spec () ]))
              assertContains "given twice" (throwsMessage (fun () -> Report.writePaper root measured [ "a", spec (); "a", spec () ]))
              assertContains "not a plain file name" (throwsMessage (fun () -> Report.writePaper root measured [ "../up", spec () ]))
              assertContains "profile '../quick'" (throwsMessage (fun () -> Report.writePaper root { measured with Profile = "../quick" } []))

          testCase "the model table is built in, and only made when there are params or GFLOPs rows"
          <| fun () ->
              Expect.contains Report.builtInPlots "model-table" "Report.builtInPlots"
              let names m = Report.plots (Compare.join "x" (Paper.readAll paperDir) m) [] |> List.map fst
              Expect.equal (names measured) [ "mean-std"; "paper-vs-reproduced"; "model-table" ] "names measured"
              let trainedOnly = { measured with Rows = measured.Rows |> List.filter (fun r -> r.Metric <> "params (M)") }
              Expect.equal (names trainedOnly) [ "mean-std"; "paper-vs-reproduced" ] "names trainedOnly"

          testCase "a page without bundles still shows the table and the rendered SVG"
          <| fun () ->
              let c = Compare.join "x" (Paper.readAll paperDir) measured
              let html = Html.page c [ { Name = "p"; Spec = Plots.meanStdBars "t" c.Rows; Svg = Some "<svg id=\"inline\"></svg>" } ] []
              assertContains "<svg id=\"inline\"></svg>" html
              assertContains "<td>0.20 ± 0.10</td>" html
              // The first table of the page is the claims table.
              Expect.equal (html.IndexOf "<table") (html.IndexOf "<table class=\"claims\">") "the first table is the claims table"
              assertNotContains "vegaEmbed" html

          testCase "a plot that a later run no longer makes is removed"
          <| fun () ->
              use dir = new TempDir()
              let root = resultsRoot dir
              Report.writePaper root measured [ "old", Plots.perBlockLines "a" "y" [ "s", [ 0, 1.0 ] ] ]
              let out = Path.Combine(root, "quick", "token-labeling")
              Expect.isTrue (File.Exists(Path.Combine(out, "old.svg"))) "File.Exists(Path.Combine(out, \"old.svg\"))"
              Report.writePaper root measured []
              Expect.isFalse (File.Exists(Path.Combine(out, "old.svg"))) "File.Exists(Path.Combine(out, \"old.svg\"))"
              Expect.isFalse (File.Exists(Path.Combine(out, "old.vl.json"))) "File.Exists(Path.Combine(out, \"old.vl.json\"))"
              Expect.isTrue (File.Exists(Path.Combine(out, "mean-std.svg"))) "File.Exists(Path.Combine(out, \"mean-std.svg\"))"

          testCase "Report.fsx loads exactly the project's sources in compile order"
          <| fun () ->
              let dir = Path.Combine(repoRoot, "src", "Reproduce.Report")
              let compiled =
                  System.Xml.Linq.XDocument.Load(Path.Combine(dir, "Reproduce.Report.fsproj")).Descendants(System.Xml.Linq.XName.Get "Compile")
                  |> Seq.map (fun e ->
                      match e.Attribute(System.Xml.Linq.XName.Get "Include") with
                      | null -> ""
                      | a -> a.Value)
                  |> List.ofSeq
              let loaded =
                  File.ReadAllLines(Path.Combine(dir, "Report.fsx"))
                  |> Array.filter (fun l -> l.StartsWith "#load")
                  |> Array.collect (fun l ->
                      System.Text.RegularExpressions.Regex.Matches(l, "\"([^\"]+)\"") |> Seq.map (fun m -> m.Groups[1].Value) |> Array.ofSeq)
                  |> List.ofArray
              Expect.isNonEmpty compiled "the project's Compile items"
              Expect.equal loaded compiled "Report.fsx's #load list" ]
