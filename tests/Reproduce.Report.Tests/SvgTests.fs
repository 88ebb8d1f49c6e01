module Reproduce.Report.Tests.SvgTests

open System.IO
open Xunit
open Reproduce.Report
open Reproduce.Report.Tests.TestUtil

// These tests need tools/vega-render/node_modules, which `dotnet fsi build.fsx test` installs through its deps
// step. They fail (with that hint) rather than skip when it is missing: a silent skip would hide a broken deps step.

[<Fact>]
let ``the renderer and its npm packages are installed`` () =
    Svg.checkInstalled (Svg.toolDir ())

[<Fact>]
let ``a small spec renders to an SVG with its marks and labels`` () =
    use dir = new TempDir()
    let spec = Plots.perBlockLines "cosine per block" "mean cos" [ "before LN", [ 0, 0.5; 1, 0.25; 2, 0.125 ] ]
    let input = Path.Combine(dir.Path, "lines.vl.json")
    let output = Path.Combine(dir.Path, "lines.svg")
    File.WriteAllText(input, Plots.toJson spec)
    Svg.render input output
    let svg = File.ReadAllText output
    Assert.StartsWith("<svg", svg)
    assertContains "cosine per block" svg
    assertContains "before LN" svg
    assertContains "aria-roledescription=\"line mark\"" svg
    Assert.False(File.Exists(output + ".tmp"))

[<Fact>]
let ``many specs render in one call, and a bad one is named in the error`` () =
    use dir = new TempDir()
    let ok = Path.Combine(dir.Path, "ok.vl.json")
    let bad = Path.Combine(dir.Path, "bad.vl.json")
    File.WriteAllText(ok, Plots.toJson (Plots.perBlockLines "a" "y" [ "s", [ 0, 1.0 ] ]))
    File.WriteAllText(bad, "{ not json")
    let m = throwsMessage (fun () -> Svg.renderMany [ ok, Path.Combine(dir.Path, "ok.svg"); bad, Path.Combine(dir.Path, "bad.svg") ])
    assertContains "bad.vl.json" m
    // The good spec of the same batch still rendered; the bad one left nothing behind.
    Assert.True(File.Exists(Path.Combine(dir.Path, "ok.svg")))
    Assert.False(File.Exists(Path.Combine(dir.Path, "bad.svg")))

[<Fact>]
let ``a renderer folder without packages fails with the install command`` () =
    use dir = new TempDir()
    File.WriteAllText(Path.Combine(dir.Path, "render.mjs"), "")
    let m = throwsMessage (fun () -> Svg.checkInstalled dir.Path)
    assertContains "dotnet fsi build.fsx deps" m
