namespace Reproduce.Training.Tests;

/// <summary>
/// Tests that depend on process-wide state (the default CPU generator, which building any model advances) run
/// in this collection, which xunit runs on its own after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(SerialTests), DisableParallelization = true)]
public sealed class SerialTests;
