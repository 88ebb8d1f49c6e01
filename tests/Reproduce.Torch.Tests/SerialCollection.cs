namespace Reproduce.Torch.Tests;

/// <summary>
/// Tests that read or change process-wide state (the default generator, live tensor counts) run in
/// this collection, which xunit runs on its own after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "serial: process-wide state";
}
