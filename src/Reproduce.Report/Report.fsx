// Loads Reproduce.Report into a script without a build: `#load "../src/Reproduce.Report/Report.fsx"`.
// Keep this list in the compile order of Reproduce.Report.fsproj (the project has no package references, so
// these files are all a script needs).
#load "Measured.fs" "Io.fs" "Numbers.fs" "Paper.fs" "Compare.fs" "Summary.fs" "Markdown.fs" "Plots.fs" "Svg.fs" "Html.fs" "Index.fs" "Report.fs"
