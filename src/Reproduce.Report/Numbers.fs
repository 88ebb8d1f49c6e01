/// Numbers for people: a mean is printed to the precision its spread supports (the std with two significant digits,
/// the mean to the same decimal place, e.g. -0.004503 ± 0.01672 → -0.005 ± 0.017), a value without a spread with
/// four significant digits, and never in E-notation (7.06E-05 → 0.000071). Machine-readable files (table.csv,
/// measured.json) keep the full numbers.
module Reproduce.Report.Numbers

open System
open System.Globalization

let private inv = CultureInfo.InvariantCulture

/// Most decimal places Math.Round accepts; smaller spreads print as this many places.
[<Literal>]
let MaxDecimals = 15

/// `v` rounded half away from zero to `decimals` places; negative `decimals` round to tens, hundreds, ….
let roundTo (decimals: int) (v: float) =
    if decimals >= 0 then
        Math.Round(v, min decimals MaxDecimals, MidpointRounding.AwayFromZero)
    else
        let p = Math.Pow(10.0, float -decimals)
        Math.Round(v / p, MidpointRounding.AwayFromZero) * p

/// The decimal places that keep two significant digits of a positive `std`: 0.01672 → 3 (0.017), 7.06E-05 → 6
/// (0.000071), 16.01 → 0 (16), 123 → -1 (120). A std that rounds up to the next power of ten keeps two digits
/// there (0.0995 → 2, printed 0.10).
let stdDecimals (std: float) =
    if not (std > 0.0) || Double.IsInfinity std then invalidArg "std" (sprintf "a spread to round to must be positive and finite (got %g)" std)
    let d = 1 - int (floor (log10 std))
    let d = if abs (roundTo d std) >= Math.Pow(10.0, float (2 - d)) then d - 1 else d
    min d MaxDecimals

/// Drops the sign of a zero ("-0.000" → "0.000"): a value that rounds to zero has no sign to show.
let private unsignZero (s: string) = if s.StartsWith "-" && s |> Seq.forall (fun ch -> ch = '-' || ch = '0' || ch = '.') then s.Substring 1 else s

/// `v` rounded to `decimals` places and printed with exactly that many (none when `decimals` ≤ 0), never in
/// E-notation.
let fixedAt (decimals: int) (v: float) = unsignZero ((roundTo decimals v).ToString("F" + string (max decimals 0), inv))

/// A value with no spread to go by: four significant digits, trailing zeros dropped, never in E-notation
/// (83.3333 → 83.33, 0.15909 → 0.1591, 86567656 → 86570000, 7.06E-05 → 0.0000706).
let plain (v: float) =
    if v = 0.0 || Double.IsNaN v || Double.IsInfinity v then
        v.ToString(inv)
    else
        let d = 3 - int (floor (log10 (abs v)))
        unsignZero ((roundTo d v).ToString("0." + String('#', MaxDecimals), inv))

/// The decimal places of a printed number ("8.530" → 3, "26" → 0).
let textDecimals (text: string) =
    match text.IndexOf '.' with
    | -1 -> 0
    | k -> text.Length - k - 1

/// The decimal places a number prints with as given (8.53 → 2, 26 → 0).
let decimalsOf (v: float) = textDecimals (v.ToString("0." + String('#', MaxDecimals), inv))

/// A value without a spread set beside a published number: four significant digits, and at least as many decimal
/// places as the published number has (150.4736 beside 150.47 → 150.47, not 150.5), so the two read alike.
let plainBeside (published: float) (v: float) =
    let d = decimalsOf published
    let text = plain v
    if textDecimals text >= d then text else fixedAt d v

/// A published number as given (no rounding), never in E-notation.
let exact (v: float) = v.ToString("0." + String('#', MaxDecimals), inv)

/// An explicit "+" for a positive printed value ("+0.1", "-0.3", "0").
let withSign (text: string) = if text.StartsWith "-" || text |> Seq.forall (fun ch -> ch = '0' || ch = '.') then text else "+" + text

/// "mean ± std" rounded to what the std supports; a zero std prints the mean with four significant digits.
let meanStd (mean: float) (std: float) =
    if std = 0.0 then
        sprintf "%s ± 0" (plain mean)
    else
        let d = stdDecimals std
        sprintf "%s ± %s" (fixedAt d mean) (fixedAt d std)

/// A number that goes with a mean (its difference to the paper, say): to the mean's decimal place when the std
/// gives one, else four significant digits; signed.
let besideMean (std: float option) (v: float) =
    match std with
    | Some s when s > 0.0 -> withSign (fixedAt (stdDecimals s) v)
    | _ -> withSign (plain v)
