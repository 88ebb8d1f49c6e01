// Checks of scripts/lib run by LibTests.cs (`dotnet fsi tests/Reproduce.Scripts.Tests/LibChecks.fsx`): every check
// prints its name; the first failure exits with 1 and says what differed.
#load "../../scripts/lib/Lib.fsx" "Checks.fsx"

open System
open System.IO
open System.Text
open Checks

// Args: defaults per profile, flags, results root.
let a =
    Args.parseWith
        "x.fsx"
        (function
        | Args.Smoke -> 1
        | _ -> 3)
        [ "--profile"; "smoke"; "--threads"; "1"; "--results"; "/tmp/r" ]
check
    "args: smoke profile, its default seeds, threads, results root"
    (a.Profile = Args.Smoke && a.Seeds = 1 && a.Threads = Some 1 && a.ResultsRoot = "/tmp/r")
    (sprintf "%A" a)
let q =
    Args.parseWith
        "x.fsx"
        (function
        | Args.Smoke -> 1
        | _ -> 3)
        [ "--seeds"; "5" ]
check "args: quick by default, --seeds overrides" (q.Profile = Args.Quick && q.Seeds = 5 && Args.seeds q = [ 0; 1; 2; 3; 4 ]) (sprintf "%A" q)

// Statistics.
let m, s = Results.meanStd [ 1.0; 2.0; 3.0; 4.0 ]
check "meanStd: sample std (n-1)" (abs (m - 2.5) < 1e-12 && abs (s - sqrt (5.0 / 3.0)) < 1e-12) (sprintf "%g %g" m s)
check "meanStd: one value has std 0" (Results.meanStd [ 7.0 ] = (7.0, 0.0)) ""

// Δ rows pair runs by seed, whatever the order, and refuse a seed without baseline.
let run name seed top1 : Cli.RunResult =
    { Name = name
      Seed = seed
      Dir = "/x/" + name
      RelDir = sprintf "p/%s-s%d" name seed
      Metrics = Map [ ("top1", top1) ]
      Texts = Map.empty
      Output = None
      Skipped = true
      Planned = false
      Seconds = 0.0
      Recreate = null }
let baseline = [ run "b" 0 70.0; run "b" 1 60.0 ]
let d = Results.deltaRow "t" "r" "Δ top-1" None (Cli.metric "top1") baseline [ run "x" 1 61.5; run "x" 0 70.5 ]
check "deltaRow: paired by seed" (d.Values = [ 1.5; 0.5 ] && d.Seeds = [ 1; 0 ]) (sprintf "%A" d)
let ok, msg = throws (fun () -> Results.deltaRow "t" "r" "m" None (Cli.metric "top1") baseline [ run "x" 2 1.0 ]) "no baseline run for seed 2"
check "deltaRow: missing baseline seed is an error" ok msg
let ok2, msg2 = throws (fun () -> Cli.metric "top5" (run "x" 0 1.0)) "has no metric 'top5'"
check "metric: absent key names the run and the key" ok2 msg2

// Run hashes: stable, and any argument or config-file change gives another directory.
let h1 = Cli.argsHash "train" [ "--set"; "optim.lr=1e-3" ] []
check "argsHash: stable" (h1 = Cli.argsHash "train" [ "--set"; "optim.lr=1e-3" ] [] && h1.Length = 8) h1
check "argsHash: changes with the arguments" (h1 <> Cli.argsHash "train" [ "--set"; "optim.lr=2e-3" ] []) h1
let cfg = Path.Combine(Args.repoRoot, "configs", "fashion-mnist-vit-tiny.json")
let withFile = Cli.argsHash "train" [] [ Cli.repoPath cfg ]
check "argsHash: includes the config file's contents" (withFile <> Cli.argsHash "train" [] []) withFile
check "repoPath: repository paths are relative" (Cli.repoPath cfg = Path.Combine("configs", "fashion-mnist-vit-tiny.json")) (Cli.repoPath cfg)
check "repoPath: other paths stay absolute" (Cli.repoPath "/tmp/x" = "/tmp/x") (Cli.repoPath "/tmp/x")

// Command results are read from the last stdout line as JSON only (`reproduce weights` itself is tested in
// tests/Reproduce.Training.Tests/Checkpoints/WeightsExportTests.cs).
let result = Process.lastJson [ "annotate" ] "wrote top-5 score maps of 7 images to s\n{\"images\":7,\"topk\":5,\"store\":\"s\"}\n"
check "lastJson: the last line's object" (result["images"].GetValue<int>() = 7 && result["topk"].GetValue<int>() = 5) (result.ToJsonString())
let models = Process.lastJson [ "models"; "--json" ] "[{\"name\":\"m\",\"params\":1}]\n\n"
check "lastJson: an array, trailing blank lines ignored" (models.AsArray().Count = 1) (models.ToJsonString())
let ok3, msg3 =
    throws (fun () -> Process.lastJson [ "annotate"; "--topk"; "5" ] "{\"images\":7}\nwrote top-5 score maps\n") "reproduce annotate --topk 5` printed no JSON"
check "lastJson: a human last line is an error naming the command" ok3 msg3

// Dataset roots: a missing one names the environment variable to set.
Environment.SetEnvironmentVariable("REPRODUCE_KITTI", null)
match DataRoots.resolve a DataRoots.Kitti with
| Error why -> check "data roots: missing root names REPRODUCE_KITTI" (why.Contains "REPRODUCE_KITTI") why
| Ok root -> check "data roots: missing root" false root
Environment.SetEnvironmentVariable("REPRODUCE_KITTI", "/nonexistent/kitti")
match DataRoots.resolve a DataRoots.Kitti with
| Error why -> check "data roots: a root that does not exist is named" (why.Contains "/nonexistent/kitti") why
| Ok root -> check "data roots: nonexistent root" false root

// Run records that do not hold what they should: the error names the file and the key.
let records = Path.Combine(Path.GetTempPath(), "reproduce-libchecks-records-" + Guid.NewGuid().ToString("N"))
Directory.CreateDirectory records |> ignore
File.WriteAllText(Path.Combine(records, RunDirs.refusedFile), "{\"command\": []}")
let okRefusal, msgRefusal = throws (fun () -> RunDirs.readRefusal records) "refused.json' has no string 'error'"
check "refused.json without 'error' is named" okRefusal msgRefusal
File.WriteAllText(Path.Combine(records, RunDirs.runtimeFile), "[1, 2]")
let okRuntime, msgRuntime = throws (fun () -> RunDirs.recordedThreads records) "runtime.json' does not hold a JSON object"
check "runtime.json that is not an object is named" okRuntime msgRuntime
Directory.Delete(records, true)

// The library stays in files that each hold one idea (scripts/README.md, "The library").
for f in Directory.GetFiles(Path.Combine(Args.repoRoot, "scripts", "lib"), "*.fsx") do
    let n = File.ReadAllLines(f).Length
    if n > 400 then check (sprintf "lib: %s has at most 400 lines" (Path.GetFileName f)) false (sprintf "%d lines" n)
check "lib: every file at most 400 lines" true ""

printfn "all lib checks passed"
