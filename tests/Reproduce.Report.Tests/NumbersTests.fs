module Reproduce.Report.Tests.NumbersTests

open Expecto
open Reproduce.Report

/// E-notation as .NET prints it ("7.06E-05", "1E+20").
let internal hasExponent (s: string) = System.Text.RegularExpressions.Regex.IsMatch(s, @"\d[eE][+-]?\d")

[<Tests>]
let tests =
    testList
        "NumbersTests"
        [ testCase "the std keeps two significant digits and the mean its decimal place"
          <| fun () ->
              // The issue's cases: 0.01672 has its first digit at 10^-2, so two digits end at 10^-3.
              Expect.equal (Numbers.stdDecimals 0.01672) 3 "stdDecimals 0.01672"
              Expect.equal (Numbers.meanStd -0.004503 0.01672) "-0.005 ± 0.017" "meanStd -0.004503 0.01672"
              // 7.06E-05: first digit at 10^-5, two digits end at 10^-6.
              Expect.equal (Numbers.stdDecimals 7.06E-05) 6 "stdDecimals 7.06E-05"
              Expect.equal (Numbers.meanStd -0.005774 7.06E-05) "-0.005774 ± 0.000071" "meanStd -0.005774 7.06E-05"
              Expect.equal (Numbers.meanStd 0.412 0.2214) "0.41 ± 0.22" "meanStd 0.412 0.2214"
              Expect.equal (Numbers.meanStd 23.79 16.01) "24 ± 16" "meanStd 23.79 16.01"
              // Above ten the mean is rounded to tens: 123 → 120, 1234.5 → 1230.
              Expect.equal (Numbers.stdDecimals 123.0) -1 "stdDecimals 123"
              Expect.equal (Numbers.meanStd 1234.5 123.0) "1230 ± 120" "meanStd 1234.5 123"

          testCase "a std that rounds up to the next power of ten keeps two digits there"
          <| fun () ->
              // 0.0995 → 0.100 at three places, which is three digits: two digits of 0.0995 are 0.10.
              Expect.equal (Numbers.stdDecimals 0.0995) 2 "stdDecimals 0.0995"
              Expect.equal (Numbers.meanStd 1.2345 0.0995) "1.23 ± 0.10" "meanStd 1.2345 0.0995"
              Expect.equal (Numbers.meanStd 5.0 9.96) "5 ± 10" "meanStd 5 9.96"

          testCase "rounding is half away from zero and a zero has no sign"
          <| fun () ->
              Expect.equal (Numbers.fixedAt 1 0.25) "0.3" "fixedAt 1 0.25"
              Expect.equal (Numbers.fixedAt 1 -0.25) "-0.3" "fixedAt 1 -0.25"
              Expect.equal (Numbers.meanStd -0.0004 0.01) "0.000 ± 0.010" "meanStd -0.0004 0.01"
              Expect.equal (Numbers.meanStd 2.5 0.0) "2.5 ± 0" "meanStd 2.5 0"

          testCase "a value without a std prints four significant digits, without trailing zeros"
          <| fun () ->
              Expect.equal (Numbers.plain 83.3333) "83.33" "plain 83.3333"
              Expect.equal (Numbers.plain 0.15909) "0.1591" "plain 0.15909"
              Expect.equal (Numbers.plain 8.2) "8.2" "plain 8.2"
              Expect.equal (Numbers.plain 7.06E-05) "0.0000706" "plain 7.06E-05"
              Expect.equal (Numbers.plain 86567656.0) "86570000" "plain 86567656"
              Expect.equal (Numbers.plain -2.0) "-2" "plain -2"
              Expect.equal (Numbers.plain 0.0) "0" "plain 0"

          testCase "a value without a std beside a published number keeps at least the published decimal places"
          <| fun () ->
              // 150.4736 would print 150.5 at four significant digits, which reads as 150.47 being missed.
              Expect.equal (Numbers.plainBeside 150.47 150.4736) "150.47" "plainBeside 150.47 150.4736"
              Expect.equal (Numbers.plainBeside 8.53 8.53472) "8.535" "plainBeside 8.53 8.53472"
              Expect.equal (Numbers.plainBeside 26.0 26.15) "26.15" "plainBeside 26 26.15"
              Expect.equal (Numbers.plainBeside 0.05 0.04912) "0.04912" "plainBeside 0.05 0.04912"
              Expect.equal (Numbers.textDecimals "8.530") 3 "textDecimals \"8.530\""
              Expect.equal (Numbers.decimalsOf 26.0) 0 "decimalsOf 26"

          testCase "a difference beside a mean takes the mean's decimal place and a sign"
          <| fun () ->
              Expect.equal (Numbers.besideMean (Some 0.01672) -1.104487) "-1.104" "besideMean (Some 0.01672) -1.104487"
              Expect.equal (Numbers.besideMean (Some 0.1) 0.1) "+0.10" "besideMean (Some 0.1) 0.1"
              Expect.equal (Numbers.besideMean None 0.1) "+0.1" "besideMean None 0.1"
              Expect.equal (Numbers.besideMean None 0.0) "0" "besideMean None 0"
              Expect.equal (Numbers.exact 1e-5) "0.00001" "exact 1e-5"
              Expect.equal (Numbers.exact 150.47) "150.47" "exact 150.47"

          testCase "no magnitude prints in E-notation"
          <| fun () ->
              for k in -12 .. 12 do
                  let scale = 10.0 ** float k
                  for text in
                      [ Numbers.meanStd (3.7 * scale) (1.3 * scale)
                        Numbers.plain (-4.2 * scale)
                        Numbers.besideMean (Some(0.5 * scale)) scale
                        Numbers.exact (1.5 * scale) ] do
                      Expect.isFalse (hasExponent text) (sprintf "%s (scale 1e%d) has no exponent" text k)

          testCase "a spread that is not positive is refused"
          <| fun () ->
              for bad in [ 0.0; -1.0; nan; infinity ] do
                  Expect.throwsT<System.ArgumentException> (fun () -> Numbers.stdDecimals bad |> ignore) (sprintf "stdDecimals %g" bad) ]
