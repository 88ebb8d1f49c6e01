// Runs every paper script (each also runnable alone), then writes the index results/README.md.
//
//   dotnet fsi scripts/reproduce.fsx [--profile smoke|quick|full|released] [--seeds N] [--results DIR] [--threads N]
//                                    [--jobs N] [--data-config FILE] [--execute]
//
// The arguments are passed on unchanged; without --seeds every script uses its own per-profile default. Scripts run
// one after another as subprocesses (`dotnet fsi scripts/<paper>.fsx …`), so one failing does not stop the rest;
// the exit code is that of the first failure (full profile without data: 3, see lib/Results.fsx).
#load "lib/Lib.fsx"

open System
open System.Diagnostics
open System.IO

/// In order: combined reads what the three paper scripts measured.
let papers = [ "token-labeling"; "sta-anf"; "specialization"; "combined" ]

let argv = fsi.CommandLineArgs |> Array.toList |> List.tail
// Parsed only to validate the arguments (and for --help) before anything runs; the scripts parse them again.
let args = Args.parseWith "reproduce.fsx" (fun _ -> 1) argv

let run (paper: string) =
    let script = Path.Combine(Args.repoRoot, "scripts", paper + ".fsx")
    if not (File.Exists script) then
        eprintfn "reproduce: scripts/%s.fsx does not exist" paper
        paper, 1, 0.0
    else
        let psi = ProcessStartInfo("dotnet", WorkingDirectory = Args.repoRoot, UseShellExecute = false)
        for a in [ "fsi"; script ] @ argv do
            psi.ArgumentList.Add a
        printfn "\n==== %s: dotnet fsi scripts/%s.fsx %s" paper paper (String.Join(" ", argv))
        let clock = Stopwatch.StartNew()
        use p = Process.Start psi
        p.WaitForExit()
        paper, p.ExitCode, clock.Elapsed.TotalSeconds

let outcomes = papers |> List.map run

// results/README.md: the index of every table and plot present, with each paper's table inlined.
Reproduce.Report.Report.writeIndex args.ResultsRoot
printfn "\n==== %s profile, results under %s" (Args.Profile.name args.Profile) args.ResultsRoot
for paper, code, seconds in outcomes do
    printfn "  %-16s %s  %6.0f s" paper (if code = 0 then "ok    " else sprintf "exit %d" code) seconds

exit (outcomes |> List.tryPick (fun (_, code, _) -> if code <> 0 then Some code else None) |> Option.defaultValue 0)
