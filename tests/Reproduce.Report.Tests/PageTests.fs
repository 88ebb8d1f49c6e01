/// The committed results pages as a reader's browser shows them: each results/quick/<paper>/index.html rendered by
/// headless Chromium (Debian's `chromium`), its scripts run, and the resulting DOM checked: the claims table is the
/// first table, and no table cell shows a number in E-notation. A screenshot of each page goes to a folder under the
/// system temp folder (printed), never into the repository.
module Reproduce.Report.Tests.PageTests

open System
open System.Diagnostics
open System.IO
open System.Text.RegularExpressions
open Expecto
open Reproduce.Report.Tests.TestUtil

/// What the test needs and how to get it, printed when Chromium is missing (the test fails: a page check that passes
/// without a browser checks nothing).
let private chromiumHint =
    "needs a headless Chromium to render the results pages: `apt-get install chromium` (Debian; `dotnet fsi build.fsx test` installs it with the test packages), or set REPRODUCE_CHROMIUM to a Chromium or Chrome binary"

/// REPRODUCE_CHROMIUM, else `chromium` on the PATH.
let private chromium () =
    match Environment.GetEnvironmentVariable "REPRODUCE_CHROMIUM" |> Option.ofObj |> Option.defaultValue "" with
    | "" ->
        let path = defaultArg (Option.ofObj (Environment.GetEnvironmentVariable "PATH")) ""
        path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        |> Array.map (fun dir -> Path.Combine(dir, "chromium"))
        |> Array.tryFind File.Exists
    | set when File.Exists set -> Some set
    | set -> failtestf "REPRODUCE_CHROMIUM is '%s', which is not a file; %s" set chromiumHint

/// Runs Chromium headless on `args` (its own profile folder under `work`); returns stdout. Fails the test, with
/// Chromium's stderr, on a non-zero exit or after two minutes.
let private runChromium (exe: string) (work: string) (args: string list) =
    let psi = ProcessStartInfo(exe, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    // --no-sandbox: the sandbox refuses to start as root (CI containers); the page is our own file.
    for a in [ "--headless"; "--no-sandbox"; "--disable-gpu"; "--hide-scrollbars"; "--user-data-dir=" + Path.Combine(work, "profile") ] @ args do
        psi.ArgumentList.Add a
    use p =
        match Process.Start psi with
        | null -> failtestf "chromium could not be started (%s)" exe
        | p -> p
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()
    if not (p.WaitForExit(TimeSpan.FromMinutes 2.0)) then
        p.Kill true
        failtestf "chromium %s did not finish in two minutes" (String.Join(" ", args))
    p.WaitForExit()
    if p.ExitCode <> 0 then failtestf "chromium %s exited with %d:\n%s" (String.Join(" ", args)) p.ExitCode err.Result
    out.Result

/// E-notation as .NET or JavaScript print it ("7.06E-05", "1e+20").
let private exponent = Regex(@"\d[eE][+-]?\d")

/// The text of each `<td>` of a serialized DOM, tags removed.
let private cells (dom: string) =
    [ for m in Regex.Matches(dom, @"<td[^>]*>(.*?)</td>", RegexOptions.Singleline) -> Regex.Replace(m.Groups[1].Value, "<[^>]+>", "") ]

/// Renders one page: the DOM after its scripts ran (vega-embed draws the plots) and a screenshot into `shots`.
let private render (exe: string) (page: string) (shots: string) =
    let name = DirectoryInfo(page).Parent |> Option.ofObj |> Option.map _.Name |> Option.defaultValue "page"
    let work = Path.Combine(shots, name)
    Directory.CreateDirectory work |> ignore
    let url = Uri(Path.GetFullPath page).AbsoluteUri
    let budget = "--virtual-time-budget=5000"
    // The inlined vega bundles mention "<table>" in their code: only the markup outside scripts counts.
    let dom =
        Regex.Replace(
            runChromium exe work [ budget; "--dump-dom"; url ],
            @"<script\b[^>]*>.*?</script>",
            "",
            RegexOptions.Singleline ||| RegexOptions.IgnoreCase
        )
    let shot = Path.Combine(shots, name + ".png")
    runChromium exe work [ budget; "--window-size=1280,1600"; "--screenshot=" + shot; url ] |> ignore
    dom, shot

[<Tests>]
let tests =
    testList
        "PageTests"
        [ testCase "each committed results page, rendered in headless Chromium, leads with its claims table and prints no E-notation"
          <| fun () ->
              let exe =
                  match chromium () with
                  | Some exe -> exe
                  | None -> failtest chromiumHint
              let pages =
                  Directory.GetDirectories(Path.Combine(repoRoot, "results", "quick"))
                  |> Array.map (fun d -> Path.Combine(d, "index.html"))
                  |> Array.filter File.Exists
                  |> Array.sort
              Expect.isNonEmpty pages "committed pages under results/quick/*/index.html"
              let shots = Path.Combine(Path.GetTempPath(), "reproduce-page-check")
              Directory.CreateDirectory shots |> ignore
              let rendered = pages |> Array.map (fun page -> async { return page, render exe page shots }) |> Async.Parallel |> Async.RunSynchronously
              for page, (dom, shot) in rendered do
                  let first = Regex.Match(dom, "<table[^>]*>")
                  Expect.isTrue first.Success (sprintf "%s: the rendered page has a table" page)
                  Expect.stringContains first.Value "class=\"claims\"" (sprintf "%s: the first table is the claims table" page)
                  Expect.stringContains dom "id=\"plot-0\"" (sprintf "%s: the page has its plots" page)
                  let tds = cells dom
                  Expect.isNonEmpty tds (sprintf "%s: the tables have cells" page)
                  for cell in tds do
                      Expect.isFalse (exponent.IsMatch cell) (sprintf "%s: cell %A shows E-notation" page cell)
                  Expect.isTrue (FileInfo(shot).Length > 0L) (sprintf "%s: screenshot %s written" page shot)
              printfn "page check: %d pages rendered; screenshots in %s" rendered.Length shots ]
