// Build script: `dotnet fsi build.fsx <target> [-- args]`. Plain F#, no FAKE.
// Targets: deps, native, build, test, bench, bench-data, reproduce, info, check-torch2, gpu-kit. Each runs what it depends on.
// check-torch2 compiles src/native against Debian trixie's libtorch 2.x headers (tools/torch2/check.fsx); gpu-kit makes
// the GPU kit's bundle, build/gpu-kit and build/gpu-kit.tar.gz (tools/gpu/bundle.fsx; docs/gpu.md).
// deps also installs the Node renderer of the report's plots (tools/vega-render); test and reproduce need it too.
// test = the formatting check (C#: dotnet format, F#: Fantomas), the libtorch 2.x compile gate, unit tests (C#: xunit under `dotnet test`; F#: Expecto
// executables), the smoke regression check (scripts/regress.fsx), then the main command over the committed quick
// results (it must execute nothing and change nothing); reproduce = every paper script at the
// quick profile (scripts/reproduce.fsx; extra arguments are passed on, e.g. `-- --seeds 1`).
open System
open System.Diagnostics
open System.IO

let root = __SOURCE_DIRECTORY__
let isCi = Environment.GetEnvironmentVariable "CI" = "true"

let log fmt = Printf.kprintf (fun s -> printfn "[build] %s" s) fmt

let fail fmt =
    Printf.kprintf
        (fun s ->
            eprintfn "[build] error: %s" s
            exit 1)
        fmt

/// Runs a process in `dir`, streaming its output; returns the exit code.
let runIn (dir: string) (env: (string * string) list) (file: string) (args: string) =
    let psi = ProcessStartInfo(file, args, WorkingDirectory = dir, UseShellExecute = false)
    for k, v in env do
        psi.Environment[k] <- v
    use p = Process.Start psi
    p.WaitForExit()
    p.ExitCode

let run file args =
    let code = runIn root [] file args
    if code <> 0 then fail "`%s %s` exited with %d" file args code

/// Captures stdout of a process (exit code, text); missing executables give (-1, "").
let capture (file: string) (args: string) =
    try
        let psi = ProcessStartInfo(file, args, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        p.ExitCode, out
    with _ ->
        -1, ""

// ---- deps: Debian packages -------------------------------------------------------------------------

/// What the main job needs: libtorch (CPU, Debian 1.13), a fast BLAS, the native toolchain,
/// image codecs, and the embedded dataset.
let basePackages = [ "libtorch-dev"; "libopenblas0-pthread"; "cmake"; "g++"; "make"; "libturbojpeg0-dev"; "libpng-dev"; "libgloo-dev"; "dataset-fashion-mnist" ]

/// Tests and benchmarks also compare against PyTorch itself (Debian's python3-torch, same libtorch); the page test
/// renders the results pages in headless Chromium (tests/Reproduce.Report.Tests/PageTests.fs).
let testPackages = [ "python3-torch"; "python3-numpy"; "chromium" ]

let installed (pkg: string) =
    let code, out = capture "dpkg-query" (sprintf "-W -f=${Status} %s" pkg)
    code = 0 && out.Contains "install ok installed"

let isRoot () =
    let code, out = capture "id" "-u"
    code = 0 && out.Trim() = "0"

let ensurePackages (pkgs: string list) =
    let missing = pkgs |> List.filter (installed >> not)
    if not missing.IsEmpty then
        let cmd = "apt-get install -y --no-install-recommends " + String.Join(" ", missing)
        if isRoot () then
            log "installing Debian packages: %s" (String.Join(" ", missing))
            let env = [ ("DEBIAN_FRONTEND", "noninteractive") ]
            if runIn root env "apt-get" "update -qq" <> 0 then fail "apt-get update failed"
            if runIn root env "apt-get" (cmd.Substring "apt-get ".Length) <> 0 then fail "`%s` failed" cmd
        else
            fail "missing Debian packages: %s. Install them with:\n  sudo %s" (String.Join(", ", missing)) cmd

// ---- deps: the Node renderer for the report's plots --------------------------------------------------

let vegaRenderDir = Path.Combine(root, "tools", "vega-render")

let commandWorks (file: string) (args: string) = fst (capture file args) = 0

/// Node.js and npm (Debian's packages, only when the commands are missing: a Node.js from elsewhere is fine),
/// then the renderer's npm packages exactly as its lock file pins them (`npm ci`), when they are not installed
/// or the lock file changed since.
let vegaRender () =
    if not (commandWorks "node" "--version" && commandWorks "npm" "--version") then ensurePackages [ "nodejs"; "npm" ]
    let lock = Path.Combine(vegaRenderDir, "package-lock.json")
    // npm writes this file at the end of every install: its age tells whether the install matches the lock.
    let installed = Path.Combine(vegaRenderDir, "node_modules", ".package-lock.json")
    if not (File.Exists installed) || File.GetLastWriteTimeUtc lock > File.GetLastWriteTimeUtc installed then
        log "npm ci --prefix tools/vega-render"
        run "npm" (sprintf "ci --prefix \"%s\" --no-audit --no-fund" vegaRenderDir)
    else
        log "tools/vega-render packages are installed"

// ---- native ------------------------------------------------------------------------------------------

let nativeDir = Path.Combine(root, "build", "native")
let nativeLib = Path.Combine(nativeDir, "libreproduce_native.so")

let nativeIsStale () =
    if not (File.Exists nativeLib) then
        true
    else
        let built = File.GetLastWriteTimeUtc nativeLib
        Directory.GetFiles(Path.Combine(root, "src", "native")) |> Array.exists (fun f -> File.GetLastWriteTimeUtc f > built)

let native () =
    if nativeIsStale () then
        log
            "building src/native%s"
            (match Environment.GetEnvironmentVariable "LIBTORCH_DIR" with
             | null
             | "" -> " against Debian's libtorch"
             | d -> " against LIBTORCH_DIR=" + d)
        Directory.CreateDirectory nativeDir |> ignore
        run "cmake" (sprintf "-S \"%s\" -B \"%s\" -DCMAKE_BUILD_TYPE=Release" (Path.Combine(root, "src", "native")) nativeDir)
        run "cmake" (sprintf "--build \"%s\" -j %d" nativeDir Environment.ProcessorCount)
    else
        log "native library is up to date"

// ---- .NET --------------------------------------------------------------------------------------------

let build () =
    log "dotnet build (Release)"
    run "dotnet" "build Reproduce.sln -c Release -nologo -v q"

/// What the main job needs: the CLI and the projects it references (the scripts load the report's sources), without
/// the tests, benchmarks and tools, which would double the build on a fresh clone.
let buildCli () =
    log "dotnet build src/Reproduce.Cli (Release)"
    run "dotnet" "build src/Reproduce.Cli/Reproduce.Cli.fsproj -c Release -nologo -v q"

/// The F# test projects (under tests/): Expecto executables. `dotnet test` skips them (IsTestProject=false; the
/// Expecto adapter for `dotnet test` is not served by the package registry), so test () runs each built one.
let expectoProjects = [ "Reproduce.Report.Tests" ]

/// Runs a process in the repository root, echoing its stdout line by line and handing each line to `onLine`;
/// returns the exit code.
let streamLines (file: string) (args: string) (onLine: string -> unit) =
    let psi = ProcessStartInfo(file, args, WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true)
    use p = Process.Start psi
    let mutable line = p.StandardOutput.ReadLine()
    while not (isNull line) do
        printfn "%s" line
        onLine line
        line <- p.StandardOutput.ReadLine()
    p.WaitForExit()
    p.ExitCode

/// Runs `dotnet test` (the C# xunit projects), then each Expecto project, echoing their output, and ends with one
/// plain `N passed, N failed, N skipped` line summed over all of them (the line CI reads). Expecto's ignored tests
/// count as skipped, its errored ones as failed.
let test () =
    let passed, failed, skipped = ref 0, ref 0, ref 0
    let count (line: string) (key: string) =
        let m = Text.RegularExpressions.Regex.Match(line, key + @":\s+(\d+)")
        if m.Success then int m.Groups[1].Value else 0
    let vstest =
        streamLines "dotnet" "test Reproduce.sln -c Release --no-build -nologo" (fun line ->
            if line.Contains " - Failed:" then
                passed.Value <- passed.Value + count line "Passed"
                failed.Value <- failed.Value + count line "Failed"
                skipped.Value <- skipped.Value + count line "Skipped")
    let expectoProblems = ResizeArray<string>()
    for project in expectoProjects do
        log "Expecto: tests/%s" project
        let dll = Path.Combine(root, "tests", project, "bin", "Release", "net10.0", project + ".dll")
        let summarized = ref false
        let code =
            streamLines "dotnet" (sprintf "\"%s\" --summary --colours 0 --no-spinner" dll) (fun line ->
                // Expecto's closing line: "EXPECTO! 52 tests run in … – 52 passed, 0 ignored, 0 failed, 0 errored. Success!"
                let m = Text.RegularExpressions.Regex.Match(line, @"(\d+) passed, (\d+) ignored, (\d+) failed, (\d+) errored")
                if m.Success then
                    summarized.Value <- true
                    passed.Value <- passed.Value + int m.Groups[1].Value
                    skipped.Value <- skipped.Value + int m.Groups[2].Value
                    failed.Value <- failed.Value + int m.Groups[3].Value + int m.Groups[4].Value)
        if code <> 0 then expectoProblems.Add(sprintf "tests/%s exited with %d" project code)
        elif not summarized.Value then expectoProblems.Add(sprintf "tests/%s printed no Expecto summary" project)
    printfn "%d passed, %d failed, %d skipped" passed.Value failed.Value skipped.Value
    if vstest <> 0 then fail "dotnet test exited with %d" vstest
    if expectoProblems.Count > 0 then fail "Expecto: %s" (String.Join("; ", expectoProblems))
    if passed.Value = 0 then fail "no test ran"

/// The F# sources Fantomas checks.
let fsharpSources = "src tests scripts build.fsx"

/// The formatting check, run first by the test target: C# whitespace and layout per .editorconfig (`dotnet format
/// whitespace` in folder mode: no MSBuild load, seconds; the style preferences there are silent, so this is what the
/// full `dotnet format` would change too), and F# per .editorconfig's Fantomas section (`fantomas --check`, the local
/// tool pinned in .config/dotnet-tools.json). Fails with the one command that reformats both.
let formatCheck () =
    if runIn root [] "dotnet" "tool restore" <> 0 then fail "`dotnet tool restore` failed (.config/dotnet-tools.json)"
    let cs = runIn root [] "dotnet" "format whitespace . --folder --verify-no-changes -v q"
    let fs = runIn root [] "dotnet" ("fantomas --check " + fsharpSources)
    if cs <> 0 || fs <> 0 then
        let which =
            [ if cs <> 0 then
                  "C#"
                  if fs <> 0 then "F#" ]
            |> String.concat " and "
        fail
            "formatting check failed (%s, files listed above): reformat with `dotnet format whitespace . --folder && dotnet fantomas %s`, then commit"
            which
            fsharpSources
    log "formatting: C# and F# sources are formatted"

/// The smoke-profile accuracy regression check (scripts/regress.fsx): every paper script at the smoke profile into a
/// temporary results root, compared with results/baselines/smoke.json; fails the build when a metric leaves its band.
let regress () =
    let code = runIn root [] "dotnet" "fsi scripts/regress.fsx --profile smoke"
    if code <> 0 then
        fail "smoke regression check failed (exit %d): see the table above; scripts/regress.fsx --update rewrites the baseline after an intended change" code

/// The main command over the committed quick results, as a fresh clone sees them (gitignored artifacts absent): it
/// must execute no run and leave results/ as committed. Fails the build with what differed.
let mainCommandOverCommitted () =
    let psi =
        ProcessStartInfo("dotnet", "fsi scripts/reproduce.fsx --profile quick", WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true)
    use p = Process.Start psi
    let executed = ResizeArray<int>()
    let mutable line = p.StandardOutput.ReadLine()
    while not (isNull line) do
        printfn "%s" line
        let m = Text.RegularExpressions.Regex.Match(line, @"^(\d+) runs executed")
        if m.Success then executed.Add(int m.Groups[1].Value)
        line <- p.StandardOutput.ReadLine()
    p.WaitForExit()
    if p.ExitCode <> 0 then fail "the main command (scripts/reproduce.fsx --profile quick) exited with %d over the committed results" p.ExitCode
    if executed.Count = 0 then fail "the main command printed no 'N runs executed' line"
    let ran = Seq.sum executed
    if ran > 0 then fail "the main command executed %d runs over the committed quick results (expected 0): commit the results of the runs it made" ran
    if Directory.Exists(Path.Combine(root, ".git")) then
        let code, status = capture "git" (sprintf "-C \"%s\" status --porcelain -- results" root)
        if code <> 0 then fail "git status failed (exit %d)" code
        if status.Trim() <> "" then fail "the main command changed results/ over the committed results (re-run it and commit what it writes):\n%s" status
    log "main command over the committed quick results: 0 runs executed, results/ unchanged"

let cli (args: string) = run "dotnet" (sprintf "\"%s\" %s" (Path.Combine(root, "src", "Reproduce.Cli", "bin", "Release", "net10.0", "reproduce.dll")) args)

// ---- targets -----------------------------------------------------------------------------------------

let target (name: string) (rest: string list) =
    match name with
    | "deps" ->
        ensurePackages (basePackages @ testPackages)
        log "Debian packages present"
        vegaRender ()
    | "native" ->
        ensurePackages basePackages
        native ()
    | "build" ->
        ensurePackages basePackages
        native ()
        build ()
    | "test" ->
        log "formatting check"
        formatCheck ()
        log "libtorch 2.x compile gate (tools/torch2/check.fsx)"
        run "dotnet" "fsi tools/torch2/check.fsx"
        ensurePackages (basePackages @ testPackages)
        vegaRender ()
        native ()
        build ()
        log "dotnet test, then the Expecto projects"
        test ()
        log "smoke regression check"
        regress ()
        log "main command over the committed quick results"
        mainCommandOverCommitted ()
    | "bench" ->
        ensurePackages (basePackages @ testPackages)
        native ()
        build ()
        run "dotnet" (sprintf "run -c Release --no-build --project bench/Reproduce.Bench -- %s" (String.Join(" ", rest)))
    | "bench-data" ->
        ensurePackages (basePackages @ testPackages @ [ "python3-pil"; "python3-torchvision" ])
        native ()
        build ()
        run "dotnet" (sprintf "run -c Release --no-build --project bench/Reproduce.DataBench -- %s" (String.Join(" ", rest)))
    | "reproduce" ->
        ensurePackages basePackages
        vegaRender ()
        native ()
        buildCli ()
        run "dotnet" (sprintf "fsi scripts/reproduce.fsx --profile quick %s" (String.Join(" ", rest)))
    | "info" ->
        ensurePackages basePackages
        native ()
        build ()
        cli "info"
    | "check-torch2" -> run "dotnet" "fsi tools/torch2/check.fsx"
    | "gpu-kit" -> run "dotnet" "fsi tools/gpu/bundle.fsx"
    | other -> fail "unknown target '%s' (deps, native, build, test, bench, bench-data, reproduce, info, check-torch2, gpu-kit)" other

match fsi.CommandLineArgs |> Array.toList |> List.tail with
| [] -> fail "usage: dotnet fsi build.fsx <deps|native|build|test|bench|bench-data|reproduce|info|check-torch2|gpu-kit> [args]"
| name :: rest -> target name (rest |> List.filter ((<>) "--"))
