module Reproduce.Report.Tests.MarkdownTests

open Expecto
open Reproduce.Report
open Reproduce.Report.Paper
open Reproduce.Report.Compare
open Reproduce.Report.Tests.TestUtil
open Reproduce.Report.Tests.CompareTests

let private verdicts profile rows = (join "m.json" papers (results profile rows [])).Rows |> List.map Summary.verdict

[<Tests>]
let tests =
    testList
        "MarkdownTests"
        [ testCase "table.md leads with the claims, then their plot, the supporting rows by table, the unavailable rows"
          <| fun () ->
              let expected =
                  [ "# Token Labeling — reproduced vs paper (profile `quick`)"
                    ""
                    "- profile: `quick`"
                    "- seeds: 0, 1, 2"
                    "- hardware: CPU, 2 threads"
                    "- command: `dotnet fsi scripts/token-labeling.fsx --profile quick`"
                    ""
                    "## Claims compared with the paper"
                    ""
                    "| table | row | metric | paper | reproduced (mean ± std) | n | Δ vs paper | verdict | note |"
                    "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |"
                    "| ablation | MixToken vs CutMix | Δ top-1 | 0.1 | 0.20 ± 0.10 | 3 | +0.10 | same sign as paper |  |"
                    ""
                    Summary.explanation "quick" { Rows = [ (small ()).Rows.Head ]; Compared = true }
                    ""
                    "![Claims compared with the paper: the rows above, mean ± std](paper-vs-reproduced.svg)"
                    ""
                    "## Supporting rows"
                    ""
                    "### model"
                    ""
                    "| row | metric | reproduced (mean ± std) | n | paper | not compared because | note |"
                    "| --- | --- | ---: | ---: | ---: | --- | --- |"
                    "| LV-ViT-T, \"tiny\" | top-1 % | 71.5 | 1 | 79.1 | absolute value on quick-profile data vs the paper's ImageNet-1k val | a \\| b |"
                    ""
                    "## Rows this profile cannot produce"
                    ""
                    "| table | row | metric | why |"
                    "| --- | --- | --- | --- |"
                    "| model | LV-ViT-L | top-1 % | needs ImageNet-1k, full profile |"
                    "" ]
              Expect.equal (Markdown.page (Some "paper-vs-reproduced.svg") (small ())) (System.String.Join("\n", expected)) "Markdown.page"

          testCase "Markdown cells escape pipes and newlines" <| fun () -> Expect.equal (Markdown.mdCell "a | b\nc") "a \\| b c" "mdCell \"a | b\\nc\""

          testCase "the claims are the compared rows; the rest are grouped by table in order of appearance"
          <| fun () ->
              let c =
                  join
                      "m.json"
                      papers
                      (results
                          "quick"
                          [ mrow "B" "x" "top-1 %" [ 70.0 ] None
                            mrow "A" "y" "Δ top-1" [ 0.3; 0.1 ] (Some "mix")
                            mrow "A" "z" "top-1 %" [ 71.0 ] None
                            mrow "B" "p" "params (M)" [ 8.53 ] (Some "params") ]
                          [])
              let claims = Summary.claims c
              Expect.isTrue claims.Compared "claims.Compared"
              Expect.equal (claims.Rows |> List.map _.Measured.Row) [ "y"; "p" ] "claim rows"
              Expect.equal
                  (Summary.supporting c claims |> List.map (fun (t, rows) -> t, rows |> List.map _.Measured.Row))
                  [ "B", [ "x" ]; "A", [ "z" ] ]
                  "supporting groups"

          testCase "a table that compares nothing leads with its differences, read against zero"
          <| fun () ->
              let rows =
                  [ mrow "t" "abs" "top-1 %" [ 70.0; 71.0 ] None
                    mrow "t" "clear" "Δ top-1" [ 1.0; 1.2 ] None
                    mrow "t" "noisy" "Δ top-1" [ 0.1; -0.1 ] None
                    mrow "t" "one" "Δ% rel. error" [ -2.0 ] None ]
              let claims = Summary.claims (join "m.json" papers (results "quick" rows []))
              Expect.isFalse claims.Compared "claims.Compared"
              Expect.equal (claims.Rows |> List.map _.Measured.Row) [ "clear"; "noisy"; "one" ] "claim rows"
              // mean 1.1, std 0.1414, n 2: 2·std/√n = 0.2 < 1.1; mean 0, std 0.1414: within.
              Expect.equal
                  (claims.Rows |> List.map Summary.verdict)
                  [ "no paper value; above 0 beyond seed noise"; "no paper value; within seed noise of 0"; "no paper value; 1 seed: below 0" ]
                  "verdicts"

          testCase "compared values that are not signed differences are read against the paper's number"
          <| fun () ->
              // Architecture: 8.534 is 8.53 as the paper prints it (half a unit of its last digit: 0.005); 8.5 is below.
              Expect.equal
                  (verdicts "quick" [ mrow "m" "a" "params (M)" [ 8.534 ] (Some "params"); mrow "m" "b" "params (M)" [ 8.5 ] (Some "params") ])
                  [ "equal to paper as printed"; "below paper" ]
                  "architecture rows"
              // Full profile, 79.1 published: 79.2 ± 0.28 over 2 seeds is within 2·std/√n = 0.4; 80.1 ± 0.14 is above.
              Expect.equal
                  (verdicts "full" [ mrow "m" "a" "top-1 %" [ 79.0; 79.4 ] (Some "abs"); mrow "m" "b" "top-1 %" [ 80.0; 80.2 ] (Some "abs") ])
                  [ "within seed noise of paper"; "above paper" ]
                  "absolute rows at the full profile"
              // Differences keep Compare.direction's verdict.
              Expect.equal (verdicts "quick" [ mrow "a" "b" "Δ top-1" [ 0.3; 0.1; 0.2 ] (Some "mix") ]) [ "same sign as paper" ] "a difference"

          testCase "no cell of a page's tables prints in E-notation"
          <| fun () ->
              let rows =
                  [ mrow "t" "tiny" "Δ RMSE (m)" [ -0.00572; -0.00582 ] (Some "mix")
                    mrow "t" "small" "rel. error" [ 0.0000706; 0.0000712 ] None
                    mrow "t" "big" "params" [ 86567656.0 ] None ]
              let page = Markdown.page None (join "m.json" papers (results "quick" rows []))
              let cells = page.Split('\n') |> Array.filter (fun l -> l.StartsWith "|") |> Array.collect (fun l -> l.Split('|'))
              for cell in cells do
                  Expect.isFalse (NumbersTests.hasExponent cell) (sprintf "cell %A has no exponent" cell) ]
