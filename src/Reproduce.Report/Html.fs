/// One self-contained HTML page per paper and profile (`results/<profile>/<paper>/index.html`), laid out as table.md
/// is (Markdown.fs): the claims table first, the plot of those rows, the supporting rows by table, the rows the
/// profile cannot produce, then the other plots; interactive (tooltips) without any network access.
///
/// Self-contained how: the minified vega, vega-lite and vega-embed bundles from tools/vega-render/node_modules
/// are inlined (about 1.1 MB per page), and each plot's Vega-Lite spec is embedded as JSON and drawn by
/// vega-embed. The rendered SVG is inlined too, inside the plot's container, so the page still shows every plot
/// where scripts are blocked; vega-embed replaces it when the page loads.
module Reproduce.Report.Html

open System
open System.IO
open System.Text
open System.Text.Json.Nodes
open Reproduce.Report.Compare

/// A plot on the page: file name stem, Vega-Lite spec, rendered SVG text (if rendered).
type PagePlot = { Name: string; Spec: JsonObject; Svg: string option }

/// The vendor bundles, in load order (vega-lite needs vega; vega-embed needs both).
let vendorFiles =
    [ Path.Combine("vega", "build", "vega.min.js")
      Path.Combine("vega-lite", "build", "vega-lite.min.js")
      Path.Combine("vega-embed", "build", "vega-embed.min.js") ]

/// Reads the vendor bundles from a tools/vega-render folder, failing with the install hint when missing.
let vendorScripts (toolDir: string) : string list =
    [ for f in vendorFiles ->
          let path = Path.Combine(toolDir, "node_modules", f)
          if not (File.Exists path) then failwithf "%s is missing: %s" path Svg.installHint
          File.ReadAllText path ]

/// Escapes the five HTML-special characters only (WebUtility.HtmlEncode would also turn ± and other Latin-1
/// characters into numeric entities, which the UTF-8 page does not need).
let private enc (s: string) = s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;").Replace("'", "&#39;")

/// A `<script>` body must not contain "</script" (it would end the element early); "<\/" means the same in JS
/// strings and regular expressions, the only places the bundles have it.
let private scriptSafe (js: string) = js.Replace("</script", "<\\/script").Replace("</SCRIPT", "<\\/SCRIPT")

let private table (cls: string) (headers: string list) (rows: string list list) =
    let sb = StringBuilder()
    sb.Append(sprintf "<table class=\"%s\">\n<thead><tr>" cls) |> ignore
    for h in headers do
        sb.Append("<th>").Append(enc h).Append("</th>") |> ignore
    sb.Append("</tr></thead>\n<tbody>\n") |> ignore
    for r in rows do
        sb.Append("<tr>") |> ignore
        for cell in r do
            sb.Append("<td>").Append(enc cell).Append("</td>") |> ignore
        sb.Append("</tr>\n") |> ignore
    sb.Append("</tbody>\n</table>\n").ToString()

let private style =
    """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{background:#f3f3f3;padding:0 .2rem}.plot{margin:1.5rem 0}.meta li{margin:.2rem 0}"""

/// The whole page. `scripts` are the vendor bundles (vendorScripts); an empty list gives a static page with the
/// inlined SVGs only (used by tests that do not need the bundles).
let page (c: Comparison) (plots: PagePlot list) (scripts: string list) : string =
    let sb = StringBuilder()
    let add (s: string) = sb.Append(s) |> ignore
    let r = c.Results
    add "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    add (sprintf "<title>%s — profile %s</title>\n<style>%s</style>\n" (enc c.Title) (enc r.Profile) style)
    for js in scripts do
        add (sprintf "<script>%s</script>\n" (scriptSafe js))
    add "</head>\n<body>\n"
    add (
        sprintf
            "<h1>%s</h1>\n<p>Reproduced vs paper, profile <code>%s</code>. Numbers of a small profile are never the paper's numbers.</p>\n"
            (enc c.Title)
            (enc r.Profile)
    )
    add "<ul class=\"meta\">\n"
    add (sprintf "<li>profile: <code>%s</code></li>\n" (enc r.Profile))
    add (sprintf "<li>seeds: %s</li>\n" (enc (if c.Seeds.IsEmpty then "none" else String.Join(", ", c.Seeds))))
    add (sprintf "<li>hardware: %s</li>\n" (enc r.Hardware))
    add (sprintf "<li>command: <code>%s</code></li>\n</ul>\n" (enc r.Command))
    add "<p>Files: <a href=\"table.md\">table.md</a> · <a href=\"table.csv\">table.csv</a> · <a href=\"measured.json\">measured.json</a></p>\n"
    let claims = Summary.claims c
    add (sprintf "<h2>%s</h2>\n" (enc (Markdown.claimsTitle claims)))
    if claims.Rows.IsEmpty then
        add "<p>This table has no claim and no measured difference.</p>\n"
    else
        add (table "claims" Markdown.claimsHeaders (claims.Rows |> List.map Markdown.claimsCells))
    add (sprintf "<p>%s</p>\n" (enc (Summary.explanation r.Profile claims)))
    // The claims plot right under its table; the other plots after the rows.
    let claimsPlot, otherPlots = plots |> List.indexed |> List.partition (fun (_, p) -> p.Name = Markdown.ClaimsPlot)
    let addPlot (i: int) (p: PagePlot) =
        let id = sprintf "plot-%d" i
        add (sprintf "<div class=\"plot\"><h3>%s</h3>\n<div id=\"%s\">%s</div>\n" (enc p.Name) id (defaultArg p.Svg ""))
        add (
            sprintf
                "<p><a href=\"%s.vl.json\">%s.vl.json</a>%s</p></div>\n"
                (enc p.Name)
                (enc p.Name)
                (if p.Svg.IsSome then sprintf " · <a href=\"%s.svg\">%s.svg</a>" (enc p.Name) (enc p.Name) else "")
        )
        if not scripts.IsEmpty then
            // ToJsonString with default options escapes <, > and & as \u003C…, so the spec cannot end the script.
            add (sprintf "<script>vegaEmbed('#%s', %s, {actions: false}).catch(function (e) { console.error(e); });</script>\n" id (p.Spec.ToJsonString()))
    if not claims.Rows.IsEmpty then
        for i, p in claimsPlot do
            addPlot i p
    match Summary.supporting c claims with
    | [] -> ()
    | groups ->
        add "<h2>Supporting rows</h2>\n"
        for name, rows in groups do
            add (sprintf "<h3>%s</h3>\n" (enc name))
            add (table "supporting" Markdown.supportingHeaders (rows |> List.map Markdown.supportingCells))
    add "<h2>Rows this profile cannot produce</h2>\n"
    if r.Unavailable.IsEmpty then
        add "<p>None listed by the script.</p>\n"
    else
        add (table "unavailable" [ "table"; "row"; "metric"; "why" ] [ for u in r.Unavailable -> [ u.Table; u.Row; u.Metric; u.Reason ] ])
    if not otherPlots.IsEmpty then add "<h2>More plots</h2>\n"
    for i, p in otherPlots do
        addPlot i p
    add "</body>\n</html>\n"
    sb.ToString()
