/// File writes that never leave a half-written result behind: write a temporary file beside the target, then rename.
module Reproduce.Report.Io

open System.IO

/// Creates the folder that will hold `path`.
let ensureParent (path: string) =
    match Path.GetDirectoryName(Path.GetFullPath path) with
    | null -> ()
    | dir -> Directory.CreateDirectory dir |> ignore

/// Writes `text` (UTF-8, no BOM) to `path` atomically: `path.tmp` first, then a rename over the target.
let writeText (path: string) (text: string) =
    ensureParent path
    let tmp = path + ".tmp"
    File.WriteAllText(tmp, text, System.Text.UTF8Encoding(false))
    File.Move(tmp, path, true)

/// A file or folder name made by a script (a plot name, a profile, a paper slug) must be one plain path segment.
let checkSegment (what: string) (name: string) =
    if
        System.String.IsNullOrWhiteSpace name
        || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
        || name.Contains '/'
        || name.Contains '\\'
        || name = "."
        || name = ".."
    then
        failwithf "%s '%s' is not a plain file name (no slashes, not empty, not . or ..)" what name

/// The last segment of a path ("" for none); Path.GetFileName's null only comes from a null path.
let fileName (path: string) : string =
    match Path.GetFileName path with
    | null -> ""
    | s -> s
