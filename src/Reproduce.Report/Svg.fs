/// SVG rendering of Vega-Lite specs through the small Node renderer in tools/vega-render (npm `vega` +
/// `vega-lite`; vega-cli is not used because it needs node-canvas, which does not install here).
module Reproduce.Report.Svg

open System
open System.ComponentModel
open System.Diagnostics
open System.IO

/// What to run when the renderer or its packages are missing.
let installHint = "run `dotnet fsi build.fsx deps` (it installs Node.js if needed and runs `npm ci --prefix tools/vega-render`)"

let private isToolDir (dir: string) = File.Exists(Path.Combine(dir, "render.mjs"))

/// The folder of the renderer: $REPRODUCE_VEGA_RENDER if set; else tools/vega-render of the repository these
/// sources are in (right both for `#load` from scripts and for the compiled assembly on the machine that built
/// it); else the first tools/vega-render found walking up from the current directory.
let toolDir () : string =
    match Environment.GetEnvironmentVariable "REPRODUCE_VEGA_RENDER" with
    | null
    | "" ->
        let fromSource = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "tools", "vega-render"))
        if isToolDir fromSource then
            fromSource
        else
            let rec up (dir: DirectoryInfo | null) =
                match dir with
                | null ->
                    failwithf
                        "tools/vega-render/render.mjs not found (looked beside %s and above %s); set REPRODUCE_VEGA_RENDER to its folder"
                        fromSource
                        Environment.CurrentDirectory
                | d ->
                    let candidate = Path.Combine(d.FullName, "tools", "vega-render")
                    if isToolDir candidate then candidate else up d.Parent
            up (DirectoryInfo Environment.CurrentDirectory)
    | dir when isToolDir dir -> Path.GetFullPath dir
    | dir -> failwithf "REPRODUCE_VEGA_RENDER=%s has no render.mjs" dir

/// Fails with the install hint when the npm packages the renderer imports are not installed.
let checkInstalled (dir: string) =
    for pkg in [ "vega"; "vega-lite"; "vega-embed" ] do
        if not (File.Exists(Path.Combine(dir, "node_modules", pkg, "package.json"))) then
            failwithf "the npm package '%s' is missing from %s: %s" pkg (Path.Combine(dir, "node_modules")) installHint

/// Renders each (input .vl.json, output .svg) pair in one Node process (Node start-up and loading vega take most
/// of the time of one chart). Each SVG is written atomically by the renderer. Fails naming the files that did
/// not render, or with the install hint when Node or the packages are missing.
let renderMany (pairs: (string * string) list) =
    if not pairs.IsEmpty then
        let dir = toolDir ()
        checkInstalled dir
        let psi = ProcessStartInfo("node", UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true)
        psi.ArgumentList.Add(Path.Combine(dir, "render.mjs"))
        for input, output in pairs do
            Io.ensureParent output
            psi.ArgumentList.Add(Path.GetFullPath input)
            psi.ArgumentList.Add(Path.GetFullPath output)
        let p =
            try
                match Process.Start psi with
                | null -> failwithf "could not start node: %s" installHint
                | p -> p
            with :? Win32Exception as e ->
                failwithf "node is not on PATH (%s): %s" e.Message installHint
        use p = p
        // Read both streams concurrently so a full stderr pipe cannot block the renderer.
        let err = p.StandardError.ReadToEndAsync()
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        if p.ExitCode <> 0 then
            let message = (err.Result + out).Trim()
            let hint = if message.Contains "ERR_MODULE_NOT_FOUND" || message.Contains "Cannot find package" then ": " + installHint else ""
            failwithf "SVG rendering failed (node %s, exit %d)%s:\n%s" (Path.Combine(dir, "render.mjs")) p.ExitCode hint message

/// Renders one spec file to one SVG file.
let render (input: string) (output: string) = renderMany [ (input, output) ]
