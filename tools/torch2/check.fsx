// The libtorch 2.x compile gate (`dotnet fsi build.fsx check-torch2`, or `dotnet fsi tools/torch2/check.fsx [FILE...]`).
// Debian bookworm has libtorch 1.13 only, yet GPU machines run a libtorch 2.x: this compiles every native source
// (`g++ -fsyntax-only`, C++17, CMake's defines) against the headers of Debian trixie's libtorch-dev and libgloo-dev.
// The packages are fetched with `apt-get download` through a private apt state under build/torch2 (its own sources
// list pointing at the trixie suite of the mirror this machine's apt already uses; nothing installed, the system's apt
// untouched) and unpacked with `dpkg -x`; the unpacked headers are reused on later runs. A libtorch 1.13 header that
// 2.x lacks is shadowed by an `#error` stub, so it cannot be picked up silently from /usr/include. With FILE arguments,
// only those files are compiled (tests use it on probe files).
open System
open System.Diagnostics
open System.IO
open System.Security.Cryptography
open System.Text

let root = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", ".."))
let cache = Path.Combine(root, "build", "torch2")
let suite = Environment.GetEnvironmentVariable "TORCH2_SUITE" |> Option.ofObj |> Option.defaultValue "trixie"
let packages = [ "libtorch-dev"; "libgloo-dev" ]
/// The header trees of libtorch (and Gloo) that the system's 1.13 packages put in /usr/include.
let torchTrees = [ "ATen"; "c10"; "caffe2"; "torch"; "gloo" ]

let log fmt = Printf.kprintf (fun s -> printfn "[check-torch2] %s" s) fmt

let fail fmt =
    Printf.kprintf
        (fun s ->
            eprintfn "[check-torch2] error: %s" s
            exit 1)
        fmt

/// Runs a process; returns (exit code, stdout + stderr).
let exec (dir: string) (file: string) (args: string list) =
    let psi = ProcessStartInfo(file, WorkingDirectory = dir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true)
    for a in args do
        psi.ArgumentList.Add a
    try
        use p = Process.Start psi
        let err = p.StandardError.ReadToEndAsync()
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        p.ExitCode, out + err.Result
    with e ->
        -1, sprintf "%s: %s" file e.Message

// ---- the mirror: read from this machine's apt sources at run time ------------------------------------

type Source = { Uri: string; Suites: string list; Keyring: string option }

/// One-line entries: `deb [signed-by=K arch=…] URI SUITE COMPONENT…`.
let parseList (text: string) =
    [ for line in text.Split '\n' do
          let line =
              (match line.IndexOf '#' with
               | -1 -> line
               | i -> line.Substring(0, i))
                  .Trim()
          if line.StartsWith "deb " then
              let opts, rest =
                  let r = line.Substring(4).Trim()
                  if r.StartsWith "[" then
                      let e = r.IndexOf ']'
                      r.Substring(1, e - 1).Split(' ', StringSplitOptions.RemoveEmptyEntries) |> List.ofArray, r.Substring(e + 1).Trim()
                  else
                      [], r
              match rest.Split(' ', StringSplitOptions.RemoveEmptyEntries) |> List.ofArray with
              | uri :: s :: _ ->
                  let key = opts |> List.tryPick (fun o -> if o.StartsWith "signed-by=" then Some(o.Substring 10) else None)
                  { Uri = uri; Suites = [ s ]; Keyring = key }
              | _ -> () ]

/// deb822 stanzas: `Types: deb`, `URIs:`, `Suites:`, `Signed-By:` (a path).
let parseSources (text: string) =
    [ for stanza in text.Replace("\r", "").Split("\n\n", StringSplitOptions.RemoveEmptyEntries) do
          let fields =
              stanza.Split '\n'
              |> Array.filter (fun l -> not (l.TrimStart().StartsWith "#") && l.Contains ':')
              |> Array.map (fun l -> let i = l.IndexOf ':' in l.Substring(0, i).Trim().ToLowerInvariant(), l.Substring(i + 1).Trim())
              |> Map.ofArray
          let words k =
              fields |> Map.tryFind k |> Option.map (fun v -> v.Split(' ', StringSplitOptions.RemoveEmptyEntries) |> List.ofArray) |> Option.defaultValue []
          if List.contains "deb" (words "types") && fields.TryFind "enabled" <> Some "no" then
              for uri in words "uris" do
                  { Uri = uri; Suites = words "suites"; Keyring = fields.TryFind "signed-by" |> Option.filter (fun k -> k.StartsWith "/") } ]

/// The Debian archive this machine's apt reads: the first entry with a plain release suite (`bookworm`, not
/// `bookworm-security`/`-updates`) outside the security archive.
let mirror () =
    let files =
        [ "/etc/apt/sources.list"; if Directory.Exists "/etc/apt/sources.list.d" then yield! Directory.GetFiles "/etc/apt/sources.list.d" |> Array.sort ]
        |> List.filter File.Exists
    let entries =
        files
        |> List.collect (fun f ->
            if f.EndsWith ".sources" then parseSources (File.ReadAllText f)
            elif f.EndsWith ".list" then parseList (File.ReadAllText f)
            else [])
    entries
    |> List.tryFind (fun e -> not (e.Uri.Contains "security") && e.Suites |> List.exists (fun s -> not (s.Contains '-') && not (s.Contains '/')))
    |> Option.defaultWith (fun () ->
        fail "no Debian release suite in /etc/apt/sources.list(.d) to take the mirror from; the gate fetches %s's libtorch-dev from it" suite)

// ---- fetch and unpack (cached) -------------------------------------------------------------------------

let headers = Path.Combine(cache, "root")
let poison = Path.Combine(cache, "poison")
let stamp = Path.Combine(cache, "packages.txt")

/// libtorch 1.13 headers that the 2.x tree lacks become `#error` stubs in a directory searched after the 2.x headers and
/// before /usr/include, so an unguarded include of one fails naming the including file and line.
let writePoison (into: string) (rootInclude: string) =
    let mutable n = 0
    for tree in torchTrees do
        let sys = Path.Combine("/usr/include", tree)
        if Directory.Exists sys then
            for f in Directory.EnumerateFiles(sys, "*", SearchOption.AllDirectories) do
                let rel = Path.GetRelativePath("/usr/include", f)
                if not (File.Exists(Path.Combine(rootInclude, rel))) then
                    let target = Path.Combine(into, rel)
                    Directory.CreateDirectory(Path.GetDirectoryName target) |> ignore
                    File.WriteAllText(target, sprintf "#error \"<%s> is a libtorch 1.13 header (in /usr/include) that %s's libtorch 2.x lacks\"\n" rel suite)
                    n <- n + 1
    n

let fetch () =
    let m = mirror ()
    let work = cache + ".tmp"
    if Directory.Exists work then Directory.Delete(work, true)
    let dirs = [ "apt/state/lists/partial"; "apt/cache/archives/partial"; "apt/etc/sources.list.d"; "apt/etc/preferences.d"; "debs" ]
    for d in dirs do
        Directory.CreateDirectory(Path.Combine(work, d)) |> ignore
    let apt = Path.Combine(work, "apt")
    File.WriteAllText(Path.Combine(apt, "state", "status"), "")
    let keyring = m.Keyring |> Option.orElse (Some "/usr/share/keyrings/debian-archive-keyring.gpg") |> Option.filter File.Exists
    let opts = keyring |> Option.map (sprintf "[signed-by=%s] ") |> Option.defaultValue ""
    File.WriteAllText(Path.Combine(apt, "etc", "sources.list"), sprintf "deb %s%s %s main\n" opts m.Uri suite)
    let user = Environment.UserName
    let o k v = [ "-o"; sprintf "%s=%s" k v ]
    let aptOpts =
        [ yield! o "Dir::State" (Path.Combine(apt, "state"))
          yield! o "Dir::State::status" (Path.Combine(apt, "state", "status"))
          yield! o "Dir::Cache" (Path.Combine(apt, "cache"))
          yield! o "Dir::Etc::SourceList" (Path.Combine(apt, "etc", "sources.list"))
          yield! o "Dir::Etc::SourceParts" (Path.Combine(apt, "etc", "sources.list.d"))
          yield! o "Dir::Etc::Preferences" (Path.Combine(apt, "etc", "preferences"))
          yield! o "Dir::Etc::PreferencesParts" (Path.Combine(apt, "etc", "preferences.d"))
          yield! o "Debug::NoLocking" "1"
          // The private lists belong to this user: apt's download sandbox user could not write them.
          yield! o "APT::Sandbox::User" user
          for t in [ "DEP-11"; "DEP-11-icons"; "DEP-11-icons-small"; "Contents-deb" ] do
              yield! o (sprintf "Acquire::IndexTargets::deb::%s::DefaultEnabled" t) "false" ]
    log "fetching %s from %s %s (private apt state under build/torch2; nothing is installed)" (String.Join(", ", packages)) m.Uri suite
    let code, out = exec work "apt-get" (aptOpts @ [ "-q"; "update"; "--error-on=any" ])
    if code <> 0 then
        fail
            "cannot fetch %s's package lists from %s (apt-get update exited with %d; offline?). The gate needs this mirror once; the unpacked headers are then kept in build/torch2.\n%s"
            suite
            m.Uri
            code
            (out.Trim())
    let code, out = exec (Path.Combine(work, "debs")) "apt-get" (aptOpts @ [ "-q"; "download" ] @ packages)
    if code <> 0 then fail "apt-get download %s from %s %s exited with %d:\n%s" (String.Join(" ", packages)) m.Uri suite code (out.Trim())
    let unpacked = Path.Combine(work, "root")
    let versions =
        [ for deb in Directory.GetFiles(Path.Combine(work, "debs"), "*.deb") |> Array.sort do
              let code, out = exec work "dpkg-deb" [ "-x"; deb; unpacked ]
              if code <> 0 then fail "dpkg-deb -x %s exited with %d: %s" deb code out
              let _, v = exec work "dpkg-deb" [ "-f"; deb; "Package"; "Version" ]
              v.Trim().Replace("\n", " ") ]
    let stubs = writePoison (Path.Combine(work, "poison")) (Path.Combine(unpacked, "usr", "include"))
    File.WriteAllText(Path.Combine(work, "packages.txt"), String.Join("\n", versions) + "\n")
    Directory.Delete(Path.Combine(work, "apt"), true)
    if Directory.Exists cache then Directory.Delete(cache, true)
    Directory.Move(work, cache)
    log "unpacked %s into build/torch2 (%d libtorch 1.13 headers absent from 2.x stubbed)" (String.Join("; ", versions)) stubs

// ---- compile ------------------------------------------------------------------------------------------

let inc = Path.Combine(headers, "usr", "include")

/// CMake's flags for src/native (CMakeLists.txt and TorchConfig's ABI define), with the 2.x headers first.
let baseFlags =
    [ "-std=c++17"
      "-fsyntax-only"
      "-D_GLIBCXX_USE_CXX11_ABI=1"
      "-Wall"
      "-Wextra"
      "-Wno-unused-parameter"
      // A 1.13 API that 2.x only deprecates is the next one to be removed: the gate refuses it now.
      "-Werror=deprecated-declarations"
      "-isystem"
      inc
      "-isystem"
      Path.Combine(inc, "torch", "csrc", "api", "include")
      "-isystem"
      poison
      "-I"
      Path.Combine(root, "src", "native") ]

let hasGloo () = File.Exists(Path.Combine(inc, "gloo", "config.h"))

/// The define sets a source is compiled under: every optional part on (codecs; c10d with Gloo where trixie's Gloo
/// headers are there), plus the other side of each build switch the file tests. RN_WITH_CUDA needs CUDA's headers,
/// which Debian main lacks: they compile on a GPU machine only.
let variants (file: string) =
    let text = File.ReadAllText file
    let gloo = if hasGloo () then [ "-DRN_WITH_GLOO=1"; "-DUSE_C10D_GLOO=1" ] else []
    [ "all on", gloo
      if text.Contains "RN_WITHOUT_CODECS" then "RN_WITHOUT_CODECS", gloo @ [ "-DRN_WITHOUT_CODECS=1" ]
      if not gloo.IsEmpty && text.Contains "RN_WITH_GLOO" then "without Gloo", [] ]

let sha (parts: string seq) =
    use h = SHA256.Create()
    Convert.ToHexStringLower(h.ComputeHash(Encoding.UTF8.GetBytes(String.Join("\u0000", parts))))[..23]

/// <torch/torch.h> (what rn_common.h includes) precompiled once with the gate's flags and kept in build/torch2/pch:
/// parsing it is most of each compile. Forced in with -include; g++ falls back to the text header if it does not fit.
let precompiled () =
    let dir = Path.Combine(cache, "pch", sha baseFlags)
    let header = Path.Combine(dir, "rn_torch.h")
    if not (File.Exists(header + ".gch")) then
        Directory.CreateDirectory dir |> ignore
        File.WriteAllText(header, "#include <torch/torch.h>\n")
        let sw = Stopwatch.StartNew()
        let flags = baseFlags |> List.filter ((<>) "-fsyntax-only")
        let code, out = exec root "g++" (flags @ [ "-x"; "c++-header"; header; "-o"; header + ".gch.tmp" ])
        if code <> 0 then fail "precompiling <torch/torch.h> of %s's libtorch failed (g++ exited with %d):\n%s" suite code out
        File.Move(header + ".gch.tmp", header + ".gch", true)
        log "precompiled <torch/torch.h> (%.0f s, kept in build/torch2/pch)" sw.Elapsed.TotalSeconds
    [ "-Winvalid-pch"; "-include"; header ]

/// Compiles each (file, variant); a pass is remembered by a hash of the flags, the file, every src/native header and the
/// package versions, so unchanged sources are not recompiled. Returns the failures' outputs.
let compileAll (files: string list) (remember: bool) =
    let nativeHeaders = Directory.GetFiles(Path.Combine(root, "src", "native"), "*.h") |> Array.sort |> Array.map File.ReadAllText
    let packagesText = File.ReadAllText stamp
    let stamps = Path.Combine(cache, "passed")
    Directory.CreateDirectory stamps |> ignore
    let pch = lazy (precompiled ())
    let jobs =
        [ for f in files do
              for name, defs in variants f do
                  let args = baseFlags @ defs @ [ Path.GetRelativePath(root, f) ]
                  let key =
                      sha (
                          seq {
                              yield! args
                              yield File.ReadAllText f
                              yield! nativeHeaders
                              yield packagesText
                          }
                      )
                  f, name, args, Path.Combine(stamps, key) ]
    let todo =
        jobs |> List.filter (fun (_, _, _, s) -> not remember || not (File.Exists s)) |> List.map (fun (f, name, args, s) -> f, name, pch.Value @ args, s)
    log "%d compiles of %d files (%d unchanged since they last passed)" todo.Length files.Length (jobs.Length - todo.Length)
    use gate = new Threading.SemaphoreSlim(max 1 Environment.ProcessorCount)
    todo
    |> List.map (fun (f, name, args, s) ->
        async {
            do! gate.WaitAsync() |> Async.AwaitTask
            try
                let sw = Stopwatch.StartNew()
                let code, out = exec root "g++" args
                let rel = Path.GetRelativePath(root, f)
                if code = 0 then
                    log "ok %s (%s) %.0f s" rel name sw.Elapsed.TotalSeconds
                    if remember then File.WriteAllText(s, "")
                    return None
                else
                    return Some(sprintf "%s (%s): g++ exited with %d\n%s" rel name code (out.TrimEnd()))
            finally
                gate.Release() |> ignore
        })
    |> Async.Parallel
    |> Async.RunSynchronously
    |> Array.choose id

let sw = Stopwatch.StartNew()
let args = fsi.CommandLineArgs |> Array.toList |> List.tail |> List.filter ((<>) "--")
if not (File.Exists stamp) then fetch () else log "using the headers in build/torch2 (%s)" ((File.ReadAllText stamp).Trim().Replace("\n", "; "))
let files, remember =
    match args with
    | [] -> Directory.GetFiles(Path.Combine(root, "src", "native"), "*.cpp") |> Array.sort |> List.ofArray, true
    | given ->
        given
        |> List.map (fun f ->
            let p = Path.GetFullPath f
            if not (File.Exists p) then fail "no such file: %s" f
            p),
        false
let failures = compileAll files remember
for f in failures do
    eprintfn "%s\n" f
if failures.Length > 0 then fail "%d of the compiles against %s's libtorch headers failed (the compiler's file:line is above)" failures.Length suite
log
    "%d files compile against %s's libtorch 2.x headers (%.0f s) (RN_WITH_CUDA blocks need CUDA's headers: not compiled here)"
    files.Length
    suite
    sw.Elapsed.TotalSeconds
