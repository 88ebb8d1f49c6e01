/// Helpers shared by the report tests: the repository's folders, temporary folders, small fixtures.
module Reproduce.Report.Tests.TestUtil

open System
open System.IO
open Expecto
open Reproduce.Report.Measured

/// The repository root (this file lives in tests/Reproduce.Report.Tests).
// Found from the test binary's folder, not __SOURCE_DIRECTORY__: CI builds map source paths to /_/ (deterministic).
let repoRoot =
    let rec up (dir: DirectoryInfo | null) =
        match dir with
        | null -> failwithf "no Reproduce.sln above %s" AppContext.BaseDirectory
        | d when File.Exists(Path.Combine(d.FullName, "Reproduce.sln")) -> d.FullName
        | d -> up d.Parent
    up (DirectoryInfo AppContext.BaseDirectory)

/// The committed paper reference files.
let paperDir = Path.Combine(repoRoot, "results", "paper")

/// A fresh folder under the system temp folder, deleted on Dispose.
type TempDir() =
    let path = Path.Combine(Path.GetTempPath(), "reproduce-report-" + Guid.NewGuid().ToString("N"))
    do Directory.CreateDirectory path |> ignore
    member _.Path = path
    interface IDisposable with
        member _.Dispose() =
            try
                Directory.Delete(path, true)
            with _ ->
                ()

/// Asserts that `f` throws and returns the message, so tests can check that it names the file and the key.
let throwsMessage (f: unit -> unit) : string = Expect.throwsC f _.Message

let assertContains (expected: string) (actual: string) = Expect.isTrue (actual.Contains expected) (sprintf "expected to find %A in:\n%s" expected actual)

let assertNotContains (unexpected: string) (actual: string) =
    Expect.isFalse (actual.Contains unexpected) (sprintf "expected not to find %A in:\n%s" unexpected actual)

/// Equal when both round to the same value at `digits` decimal places (what xunit's `Assert.Equal(e, a, digits)`
/// checked before the move to Expecto).
let equalRounded (digits: int) (actual: float) (expected: float) (message: string) =
    Expect.equal (Math.Round(actual, digits)) (Math.Round(expected, digits)) (sprintf "%s (to %d decimal places)" message digits)

/// A measured row with the fields tests do not care about filled in.
let mrow table row metric values paperRef : MeasuredRow =
    { Table = table; Row = row; Metric = metric; Values = values; Seeds = List.init (List.length values) id; PaperRef = paperRef; Runs = []; Note = None }

let results profile rows unavailable : PaperResults =
    { Paper = "token-labeling"
      Profile = profile
      Hardware = "CPU, 2 threads"
      Command = "dotnet fsi scripts/token-labeling.fsx --profile " + profile
      Rows = rows
      Unavailable = unavailable }
