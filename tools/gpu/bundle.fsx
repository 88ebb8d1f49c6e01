// The GPU kit's bundle (`dotnet fsi build.fsx gpu-kit`, or `dotnet fsi tools/gpu/bundle.fsx`): build/gpu-kit/ and
// build/gpu-kit.tar.gz, which a person copies to a CUDA machine that has PyTorch 2.x, CMake and a compiler but no .NET:
//   run.sh        tools/gpu/run.sh
//   native/       src/native (sources and CMakeLists.txt; run.sh builds them against that machine's libtorch)
//   bin/          a self-contained, trimmed linux-x64 publish of tools/gpu/Reproduce.GpuKit (no libreproduce_native.so)
//   python/       bench/pytorch_bench.py and tools/gpu/ops_reference.py (the PyTorch side)
// The publish runs on a copy of the projects it needs under build/gpu-kit-work (without their packages.lock.json: a
// linux-x64 restore would add a runtime section to them that the checkout's own restores then reject), so the
// checkout's builds and lock files are untouched. Prints the bundle's size; fails when it exceeds 60 MB.
open System
open System.Diagnostics
open System.IO

let root = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", ".."))
let bundle = Path.Combine(root, "build", "gpu-kit")
let work = Path.Combine(root, "build", "gpu-kit-work")
let tarball = Path.Combine(root, "build", "gpu-kit.tar.gz")
let limit = 60L * 1000L * 1000L

let log fmt = Printf.kprintf (fun s -> printfn "[gpu-kit] %s" s) fmt

let fail fmt =
    Printf.kprintf
        (fun s ->
            eprintfn "[gpu-kit] error: %s" s
            exit 1)
        fmt

let run (file: string) (args: string list) =
    let psi = ProcessStartInfo(file, WorkingDirectory = root, UseShellExecute = false)
    for a in args do
        psi.ArgumentList.Add a
    use p = Process.Start psi
    p.WaitForExit()
    if p.ExitCode <> 0 then fail "`%s %s` exited with %d" file (String.Join(" ", args)) p.ExitCode

let copyDir (src: string) (dst: string) (keep: string -> bool) =
    Directory.CreateDirectory dst |> ignore
    for f in Directory.GetFiles src |> Array.filter keep do
        File.Copy(f, Path.Combine(dst, Path.GetFileName f))

/// Copies a project folder (sources only: no bin/, obj/ or lock file) to the same place under `dst`.
let rec copySources (rel: string) (dst: string) =
    let src = Path.Combine(root, rel)
    copyDir src (Path.Combine(dst, rel)) (fun f -> Path.GetFileName f <> "packages.lock.json")
    for d in Directory.GetDirectories src do
        let name = Path.GetFileName d
        if name <> "bin" && name <> "obj" then copySources (Path.Combine(rel, name)) dst

let folderBytes (dir: string) = Directory.GetFiles(dir, "*", SearchOption.AllDirectories) |> Array.sumBy (fun f -> FileInfo(f).Length)

// Assemble next to the bundle, then swap it in: a failed run leaves the previous bundle as it was.
let staging = bundle + ".tmp"
if Directory.Exists staging then Directory.Delete(staging, true)
let sources = Path.Combine(work, "src")
if Directory.Exists sources then Directory.Delete(sources, true)
for f in [ "Directory.Build.props"; "Directory.Packages.props"; ".editorconfig" ] do
    Directory.CreateDirectory sources |> ignore
    File.Copy(Path.Combine(root, f), Path.Combine(sources, f))
for rel in [ "src/Reproduce.Torch"; "src/Reproduce.Vision"; "tools/gpu/Reproduce.GpuKit"; "bench/Reproduce.Bench" ] do
    copySources rel sources
log "publishing tools/gpu/Reproduce.GpuKit (self-contained, trimmed, linux-x64)"
run
    "dotnet"
    [ "publish"
      Path.Combine(sources, "tools/gpu/Reproduce.GpuKit/Reproduce.GpuKit.csproj")
      "-c"
      "Release"
      "-r"
      "linux-x64"
      "--self-contained"
      "--artifacts-path"
      Path.Combine(work, "artifacts")
      "-o"
      Path.Combine(staging, "bin")
      "-nologo"
      "-v"
      "q"
      "-p:PublishTrimmed=true"
      // Only the framework is trimmed; the project's assemblies stay whole (their JSON options use reflection).
      "-p:TrimMode=partial"
      "-p:EnableTrimAnalyzer=false"
      "-p:SuppressTrimAnalysisWarnings=true"
      "-p:JsonSerializerIsReflectionEnabledByDefault=true"
      "-p:DebugType=none"
      "-p:GenerateDocumentationFile=false"
      "-p:RestorePackagesWithLockFile=false" ]
for leftover in Directory.GetFiles(Path.Combine(staging, "bin"), "libreproduce_native.so") do
    File.Delete leftover
copyDir (Path.Combine(root, "src", "native")) (Path.Combine(staging, "native")) (fun _ -> true)
Directory.CreateDirectory(Path.Combine(staging, "python")) |> ignore
for f in [ "bench/pytorch_bench.py"; "tools/gpu/ops_reference.py" ] do
    File.Copy(Path.Combine(root, f), Path.Combine(staging, "python", Path.GetFileName f))
File.Copy(Path.Combine(root, "tools", "gpu", "run.sh"), Path.Combine(staging, "run.sh"))
File.SetUnixFileMode(Path.Combine(staging, "run.sh"), enum<UnixFileMode> 0o755)
if Directory.Exists bundle then Directory.Delete(bundle, true)
Directory.Move(staging, bundle)

let tmpTar = tarball + ".tmp"
run "tar" [ "-czf"; tmpTar; "-C"; Path.GetDirectoryName bundle; "gpu-kit" ]
File.Move(tmpTar, tarball, true)
let size = folderBytes bundle
let binSize = folderBytes (Path.Combine(bundle, "bin"))
let tarSize = FileInfo(tarball).Length
log "bundle %s: %.1f MB (bin/ %.1f MB), %s: %.1f MB" bundle (float size / 1e6) (float binSize / 1e6) tarball (float tarSize / 1e6)
if size > limit then fail "the bundle is %.1f MB, over the 60 MB limit" (float size / 1e6)
log "on the GPU machine: tar xzf gpu-kit.tar.gz && gpu-kit/run.sh OUT (or gpu-kit/run.sh --cpu OUT)"
