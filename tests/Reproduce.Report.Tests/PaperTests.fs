module Reproduce.Report.Tests.PaperTests

open System.IO
open Xunit
open Reproduce.Report
open Reproduce.Report.Paper
open Reproduce.Report.Tests.TestUtil

let private row (id: string) (extra: string) =
    sprintf """{"id": "%s", "paper": "p", "table": "t", "model": "m", "dataset": "d", "metric": "top-1 %%", "kind": "absolute", "source": "S002"%s}""" id extra

let private file (rows: string list) =
    sprintf """{"paper": "p", "title": "A paper", "rows": [%s], "not_found": ["x"]}""" (System.String.Join(",", rows))

[<Fact>]
let ``the committed reference files load and their ids are unique over all files`` () =
    let files = readAll paperDir
    Assert.Equal<string list>([ "related"; "sta-anf"; "specialization"; "token-labeling" ] |> List.sort, files |> List.map _.Paper |> List.sort)
    let ids = files |> List.collect _.Rows |> List.map _.Id
    Assert.Equal(ids.Length, (List.distinct ids).Length)
    for f in files do Assert.NotEmpty f.NotFound

[<Fact>]
let ``reference rows carry docs/papers.md's numbers and sources`` () =
    let byId = readAll paperDir |> index
    let value id = byId[id].Value
    Assert.Equal(Some 83.3, value "tl-model-lvvit-s-224-top1")
    Assert.Equal(Some 86.4, value "tl-model-lvvit-l-512-top1")
    Assert.Equal(Some 0.1, value "tl-ablation-mixtoken-vs-cutmix-in-labels")
    Assert.Equal(Delta, byId["tl-ablation-mixtoken-vs-cutmix-in-labels"].Kind)
    Assert.Equal(Some 0.185, value "sta-baseline-relerr")
    Assert.Equal(Some 82.3, value "sta-anf-top1")
    Assert.Equal(Some 8.0, value "cls-qkv-params")
    Assert.Equal(Some 1.1, value "cls-norm-seg")
    Assert.Equal(Some(0.5, 1.5), byId["tl-other-vits"].Range)
    Assert.Equal("S002", byId["tl-ablation-mixtoken-vs-cutmix-in-labels"].Source)
    // The + STA row is not in any source: kept as a row that says so, never as a number.
    Assert.Equal(None, value "sta-sta-top1")
    Assert.Equal(Some "not found", byId["sta-sta-top1"].ValueText)

[<Fact>]
let ``every derived difference row equals with minus without`` () =
    let rows = readAll paperDir |> List.collect _.Rows
    let byId = rows |> List.map (fun r -> r.Id, r) |> Map.ofList
    let derived = rows |> List.filter (fun r -> r.Id.EndsWith "-delta" && byId.ContainsKey(r.Id.Replace("-delta", "-with")))
    Assert.True(derived.Length >= 10, sprintf "only %d derived Δ rows" derived.Length)
    for d in derived do
        let a = byId[d.Id.Replace("-delta", "-without")].Value.Value
        let b = byId[d.Id.Replace("-delta", "-with")].Value.Value
        Assert.Equal("derived", d.Source)
        Assert.Equal(b - a, d.Value.Value, 9)

[<Fact>]
let ``a row parses with its optional fields`` () =
    let f = ofJson "mem.json" (file [ row "a" """, "value": null, "value_text": "+0.5 to +1.5", "range": [0.5, 1.5], "profile_independent": true, "note": "n" """ ])
    let r = f.Rows.Head
    Assert.Equal("A paper", f.Title)
    Assert.Equal<string list>([ "x" ], f.NotFound)
    Assert.Equal(None, r.Value)
    Assert.Equal(Some(0.5, 1.5), r.Range)
    Assert.True r.ProfileIndependent
    Assert.Equal(Some "n", r.Note)
    Assert.Equal("+0.5 to +1.5", display r)

[<Fact>]
let ``duplicate ids are rejected naming the file and the id`` () =
    let m = throwsMessage (fun () -> ofJson "dup.json" (file [ row "a" """, "value": 1"""; row "a" """, "value": 2""" ]) |> ignore)
    assertContains "dup.json" m
    assertContains "duplicate id 'a'" m

[<Fact>]
let ``a missing field is rejected naming the file, the row and the key`` () =
    let text = file [ """{"id": "r1", "paper": "p", "table": "t", "model": "m", "dataset": "d", "kind": "absolute", "value": 1, "source": "s"}""" ]
    let m = throwsMessage (fun () -> ofJson "missing.json" text |> ignore)
    assertContains "missing.json" m
    assertContains "row 'r1'" m
    assertContains "'metric'" m

[<Fact>]
let ``a row without an id is rejected by position`` () =
    let m = throwsMessage (fun () -> ofJson "noid.json" (file [ """{"paper": "p"}""" ]) |> ignore)
    assertContains "noid.json: rows[0]" m
    assertContains "'id'" m

[<Fact>]
let ``a null value needs value_text, and value must be present`` () =
    let m = throwsMessage (fun () -> ofJson "null.json" (file [ row "z" """, "value": null""" ]) |> ignore)
    assertContains "null.json" m
    assertContains "value_text" m
    let m2 = throwsMessage (fun () -> ofJson "absent.json" (file [ row "z" "" ]) |> ignore)
    assertContains "absent.json: row 'z': missing 'value'" m2

[<Fact>]
let ``bad kinds, values, ranges and JSON are rejected naming the file`` () =
    assertContains "'kind' must be absolute, delta or relative" (throwsMessage (fun () -> ofJson "k.json" (file [ (row "a" """, "value": 1""").Replace("\"absolute\"", "\"points\"") ]) |> ignore))
    assertContains "k.json: row 'a': 'value' must be a finite number" (throwsMessage (fun () -> ofJson "k.json" (file [ row "a" """, "value": "83.3" """ ]) |> ignore))
    assertContains "'range' low 2 is above high 1" (throwsMessage (fun () -> ofJson "k.json" (file [ row "a" """, "value": 1, "range": [2, 1]""" ]) |> ignore))
    assertContains "bad.json: invalid JSON" (throwsMessage (fun () -> ofJson "bad.json" "{ nope" |> ignore))
    assertContains "rows.json: missing 'rows' array" (throwsMessage (fun () -> ofJson "rows.json" """{"paper": "p", "title": "t"}""" |> ignore))

[<Fact>]
let ``a row of another paper is rejected`` () =
    let text = file [ (row "a" """, "value": 1""").Replace("\"paper\": \"p\"", "\"paper\": \"q\"") ]
    assertContains "paper 'q' differs from the file's paper 'p'" (throwsMessage (fun () -> ofJson "other.json" text |> ignore))

[<Fact>]
let ``ids must be unique across files of a folder`` () =
    use dir = new TempDir()
    File.WriteAllText(Path.Combine(dir.Path, "a.json"), file [ row "same" """, "value": 1""" ])
    File.WriteAllText(Path.Combine(dir.Path, "b.json"), (file [ row "same" """, "value": 2""" ]).Replace("\"p\"", "\"q\""))
    let m = throwsMessage (fun () -> readAll dir.Path |> ignore)
    assertContains "id 'same' is used both in paper 'p' and in paper 'q'" m
    assertContains "missing-folder: paper reference folder not found" (throwsMessage (fun () -> readAll "missing-folder" |> ignore))

[<Fact>]
let ``a results root without its own paper folder uses the committed reference numbers`` () =
    use dir = new TempDir()
    let folder = folderFor dir.Path
    Assert.EndsWith(Path.Combine("results", "paper"), folder)
    Assert.NotEmpty(readAll folder)
    Directory.CreateDirectory(Path.Combine(dir.Path, "paper")) |> ignore
    Assert.Equal(Path.Combine(dir.Path, "paper"), folderFor dir.Path)
