module Reproduce.Report.Tests.PaperTests

open System.IO
open Expecto
open Reproduce.Report
open Reproduce.Report.Paper
open Reproduce.Report.Tests.TestUtil

let private row (id: string) (extra: string) =
    sprintf """{"id": "%s", "paper": "p", "table": "t", "model": "m", "dataset": "d", "metric": "top-1 %%", "kind": "absolute", "source": "S002"%s}""" id extra

let private file (rows: string list) = sprintf """{"paper": "p", "title": "A paper", "rows": [%s], "not_found": ["x"]}""" (System.String.Join(",", rows))

[<Tests>]
let tests =
    testList
        "PaperTests"
        [ testCase "the committed reference files load and their ids are unique over all files"
          <| fun () ->
              let files = readAll paperDir
              Expect.equal
                  (files |> List.map _.Paper |> List.sort)
                  ([ "related"; "sta-anf"; "specialization"; "token-labeling" ] |> List.sort)
                  "the papers with reference files"
              let ids = files |> List.collect _.Rows |> List.map _.Id
              Expect.equal ((List.distinct ids).Length) ids.Length "ids are unique over all files"
              for f in files do
                  Expect.isNonEmpty f.NotFound "f.NotFound is not empty"

          testCase "reference rows carry docs/papers.md's numbers and sources"
          <| fun () ->
              let byId = readAll paperDir |> index
              let value id = byId[id].Value
              Expect.equal (value "tl-model-lvvit-s-224-top1") (Some 83.3) "value \"tl-model-lvvit-s-224-top1\""
              Expect.equal (value "tl-model-lvvit-l-512-top1") (Some 86.4) "value \"tl-model-lvvit-l-512-top1\""
              Expect.equal (value "tl-ablation-mixtoken-vs-cutmix-in-labels") (Some 0.1) "value \"tl-ablation-mixtoken-vs-cutmix-in-labels\""
              Expect.equal (byId["tl-ablation-mixtoken-vs-cutmix-in-labels"].Kind) Delta "byId[\"tl-ablation-mixtoken-vs-cutmix-in-labels\"].Kind"
              Expect.equal (value "sta-baseline-relerr") (Some 0.185) "value \"sta-baseline-relerr\""
              Expect.equal (value "sta-anf-top1") (Some 82.3) "value \"sta-anf-top1\""
              Expect.equal (value "cls-qkv-params") (Some 8.0) "value \"cls-qkv-params\""
              Expect.equal (value "cls-norm-seg") (Some 1.1) "value \"cls-norm-seg\""
              Expect.equal (byId["tl-other-vits"].Range) (Some(0.5, 1.5)) "byId[\"tl-other-vits\"].Range"
              Expect.equal (byId["tl-ablation-mixtoken-vs-cutmix-in-labels"].Source) "S002" "byId[\"tl-ablation-mixtoken-vs-cutmix-in-labels\"].Source"
              // The + STA row is not in any source: kept as a row that says so, never as a number.
              Expect.equal (value "sta-sta-top1") None "value \"sta-sta-top1\""
              Expect.equal (byId["sta-sta-top1"].ValueText) (Some "not found") "byId[\"sta-sta-top1\"].ValueText"

          testCase "every derived difference row equals with minus without"
          <| fun () ->
              let rows = readAll paperDir |> List.collect _.Rows
              let byId = rows |> List.map (fun r -> r.Id, r) |> Map.ofList
              let derived = rows |> List.filter (fun r -> r.Id.EndsWith "-delta" && byId.ContainsKey(r.Id.Replace("-delta", "-with")))
              Expect.isTrue (derived.Length >= 10) (sprintf "only %d derived Δ rows" derived.Length)
              for d in derived do
                  let a = byId[d.Id.Replace("-delta", "-without")].Value.Value
                  let b = byId[d.Id.Replace("-delta", "-with")].Value.Value
                  Expect.equal d.Source "derived" "d.Source"
                  equalRounded 9 d.Value.Value (b - a) "d.Value.Value"

          testCase "a row parses with its optional fields"
          <| fun () ->
              let f =
                  ofJson
                      "mem.json"
                      (file [ row "a" """, "value": null, "value_text": "+0.5 to +1.5", "range": [0.5, 1.5], "profile_independent": true, "note": "n" """ ])
              let r = f.Rows.Head
              Expect.equal f.Title "A paper" "f.Title"
              Expect.equal f.NotFound [ "x" ] "f.NotFound"
              Expect.equal r.Value None "r.Value"
              Expect.equal r.Range (Some(0.5, 1.5)) "r.Range"
              Expect.isTrue r.ProfileIndependent "r.ProfileIndependent"
              Expect.equal r.Note (Some "n") "r.Note"
              Expect.equal (display r) "+0.5 to +1.5" "display r"

          testCase "duplicate ids are rejected naming the file and the id"
          <| fun () ->
              let m = throwsMessage (fun () -> ofJson "dup.json" (file [ row "a" """, "value": 1"""; row "a" """, "value": 2""" ]) |> ignore)
              assertContains "dup.json" m
              assertContains "duplicate id 'a'" m

          testCase "a missing field is rejected naming the file, the row and the key"
          <| fun () ->
              let text = file [ """{"id": "r1", "paper": "p", "table": "t", "model": "m", "dataset": "d", "kind": "absolute", "value": 1, "source": "s"}""" ]
              let m = throwsMessage (fun () -> ofJson "missing.json" text |> ignore)
              assertContains "missing.json" m
              assertContains "row 'r1'" m
              assertContains "'metric'" m

          testCase "a row without an id is rejected by position"
          <| fun () ->
              let m = throwsMessage (fun () -> ofJson "noid.json" (file [ """{"paper": "p"}""" ]) |> ignore)
              assertContains "noid.json: rows[0]" m
              assertContains "'id'" m

          testCase "a null value needs value_text, and value must be present"
          <| fun () ->
              let m = throwsMessage (fun () -> ofJson "null.json" (file [ row "z" """, "value": null""" ]) |> ignore)
              assertContains "null.json" m
              assertContains "value_text" m
              let m2 = throwsMessage (fun () -> ofJson "absent.json" (file [ row "z" "" ]) |> ignore)
              assertContains "absent.json: row 'z': missing 'value'" m2

          testCase "bad kinds, values, ranges and JSON are rejected naming the file"
          <| fun () ->
              assertContains
                  "'kind' must be absolute, delta or relative"
                  (throwsMessage (fun () -> ofJson "k.json" (file [ (row "a" """, "value": 1""").Replace("\"absolute\"", "\"points\"") ]) |> ignore))
              assertContains
                  "k.json: row 'a': 'value' must be a finite number"
                  (throwsMessage (fun () -> ofJson "k.json" (file [ row "a" """, "value": "83.3" """ ]) |> ignore))
              assertContains
                  "'range' low 2 is above high 1"
                  (throwsMessage (fun () -> ofJson "k.json" (file [ row "a" """, "value": 1, "range": [2, 1]""" ]) |> ignore))
              assertContains "bad.json: invalid JSON" (throwsMessage (fun () -> ofJson "bad.json" "{ nope" |> ignore))
              assertContains "rows.json: missing 'rows' array" (throwsMessage (fun () -> ofJson "rows.json" """{"paper": "p", "title": "t"}""" |> ignore))

          testCase "a row of another paper is rejected"
          <| fun () ->
              let text = file [ (row "a" """, "value": 1""").Replace("\"paper\": \"p\"", "\"paper\": \"q\"") ]
              assertContains "paper 'q' differs from the file's paper 'p'" (throwsMessage (fun () -> ofJson "other.json" text |> ignore))

          testCase "ids must be unique across files of a folder"
          <| fun () ->
              use dir = new TempDir()
              File.WriteAllText(Path.Combine(dir.Path, "a.json"), file [ row "same" """, "value": 1""" ])
              File.WriteAllText(Path.Combine(dir.Path, "b.json"), (file [ row "same" """, "value": 2""" ]).Replace("\"p\"", "\"q\""))
              let m = throwsMessage (fun () -> readAll dir.Path |> ignore)
              assertContains "id 'same' is used both in paper 'p' and in paper 'q'" m
              assertContains "missing-folder: paper reference folder not found" (throwsMessage (fun () -> readAll "missing-folder" |> ignore))

          testCase "a results root without its own paper folder uses the committed reference numbers"
          <| fun () ->
              use dir = new TempDir()
              let folder = folderFor dir.Path
              Expect.stringEnds folder (Path.Combine("results", "paper")) "folder"
              Expect.isNonEmpty (readAll folder) "readAll folder is not empty"
              Directory.CreateDirectory(Path.Combine(dir.Path, "paper")) |> ignore
              Expect.equal (folderFor dir.Path) (Path.Combine(dir.Path, "paper")) "folderFor dir.Path" ]
