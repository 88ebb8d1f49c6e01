namespace Reproduce.Vision.Tests;

/// <summary>
/// Tests that read or change process-wide state (the default generator, live tensor counts) run in this
/// collection, which xunit runs on its own after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(SerialTests), DisableParallelization = true)]
public sealed class SerialTests;
