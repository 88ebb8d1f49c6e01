namespace Reproduce.Training.Train;

/// <summary>The training loss became NaN or infinite; the run's last good checkpoint is left as it was.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
