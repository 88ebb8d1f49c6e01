/// Entry point: runs every `[<Tests>]` list of this assembly (Expecto's command-line options apply, e.g. `--summary`,
/// `--filter-test-case`, `--sequenced`).
module Reproduce.Report.Tests.Main

open Expecto

[<EntryPoint>]
let main argv = runTestsInAssemblyWithCLIArgs [] argv
