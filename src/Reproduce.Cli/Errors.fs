/// The one place that turns the errors a user can cause into `error: <message>` on stderr and an exit code, so every
/// command reports them alike; anything else is a bug and keeps its stack trace.
module Reproduce.Cli.Errors

open System
open System.IO
open Reproduce.Torch
open Reproduce.Torch.IO
open Reproduce.Training.Annotation
open Reproduce.Training.Checkpoints
open Reproduce.Training.Config
open Reproduce.Training.Inference
open Reproduce.Training.Scoring
open Reproduce.Training.Train

/// Exit code of a failed command.
[<Literal>]
let FailedExitCode = 1

/// Exit code of a bad command line (Argu's own, too).
[<Literal>]
let UsageExitCode = 2

/// Exit code of a configuration the trainer refuses (bad key or value, unsupported combination): deterministic, so
/// a script may record it as the run's outcome instead of retrying it.
[<Literal>]
let RefusedExitCode = 3

/// Whether `e` comes from the input (configuration, arguments, files, data, checkpoints, a diverging run) rather
/// than from a bug. InvalidOperationException is here because the run store raises it for a directory in the wrong
/// state (e.g. checkpoints of an unfinished run without --resume).
let isUserError (e: exn) =
    match e with
    | :? ConfigException
    | :? ArgumentException
    | :? IOException
    | :? UnauthorizedAccessException
    | :? InvalidDataException
    | :? InvalidOperationException
    | :? TorchException
    | :? SafeTensorsException
    | :? CheckpointException
    | :? TrainingDivergedException
    | :? AnnotationException
    | :? InferenceException
    | :? ScoringException -> true
    | _ -> false

/// Prints `error: <message>` on stderr and returns `code`.
let fail (code: int) (message: string) =
    eprintfn "error: %s" message
    code

/// Runs `body`; a user error becomes `error: <message>` and exit code `code`.
let guardedWith (code: int) (body: unit -> int) =
    try
        body ()
    with e when isUserError e ->
        fail code e.Message

/// Runs `body`; a user error becomes `error: <message>` and exit code 1.
let guarded (body: unit -> int) = guardedWith FailedExitCode body
