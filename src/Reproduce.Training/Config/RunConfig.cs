using System.Text.RegularExpressions;

namespace Reproduce.Training.Config;

/// <summary>How much compute a run is planned for (docs/architecture.md "Scripts and profiles"). Every table row names its profile.</summary>
public enum Profile
{
    /// <summary>Seconds per run; tests and the regression check.</summary>
    Smoke,
    /// <summary>The main job: every table in miniature on the embedded data, on 2 CPU cores.</summary>
    Quick,
    /// <summary>The papers' own settings on the real datasets, on GPUs.</summary>
    Full,
}

/// <summary>
/// Everything a run depends on, in one record (nanoGPT style): the top level of a configuration. Loaded with
/// <see cref="ConfigLoader"/> (defaults + JSON files + <c>key=value</c> overrides); the resolved record is
/// saved as a run's <c>config.json</c> in canonical form (<see cref="ConfigJson"/>), and its hash names the
/// run directory (<see cref="RunId"/>).
/// </summary>
public sealed partial record RunConfig : IConfigSection
{
    /// <summary>Readable part of the run directory name: letters, digits, '.', '_' and '-'.</summary>
    public string Name { get; init; } = "run";
    /// <summary>Compute profile (smoke | quick | full).</summary>
    public Profile Profile { get; init; } = Profile.Quick;
    /// <summary>Seed of every generator the run uses (model init, data order, augmentation).</summary>
    public long Seed { get; init; }
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>CPU intra-op threads; 0 = the library default (every core, or REPRODUCE_THREADS).</summary>
    public int Threads { get; init; }
    /// <summary>
    /// bf16 autocast of the training forward and loss (the precision switch: false = fp32, true = bf16 mixed precision;
    /// the LV-ViT README trains with AMP), on the CPU or a CUDA device of compute capability 8.0+; weights, gradients
    /// and optimizer state stay float32. A device without bf16 is an error, not a silent fallback.
    /// </summary>
    public bool AutocastBf16 { get; init; }
    /// <summary>
    /// TF32 matmuls and convolutions on CUDA (timm and DeiT train with it on Ampere GPUs): <c>true</c> turns on both
    /// of libtorch's flags for the run; <c>false</c> leaves libtorch's defaults (cuBLAS TF32 off, cuDNN TF32 on).
    /// On the CPU, <c>true</c> is an error rather than a silent no-op.
    /// </summary>
    public bool Tf32 { get; init; }
    /// <summary>Which model, and the keys of its registry record that the run changes (<c>model.drop_path_rate</c>, <c>model.anf.kernel_size</c>).</summary>
    public ModelSection Model { get; init; } = new();
    /// <summary>Dataset, sizes and loader settings.</summary>
    public DataSection Data { get; init; } = new();
    /// <summary>Optimizer, schedule, length, clipping, accumulation, EMA, loss.</summary>
    public OptimSection Optim { get; init; } = new();
    /// <summary>Data augmentation and label mixing.</summary>
    public AugmentSection Aug { get; init; } = new();
    /// <summary>Token labeling (LV-ViT paper).</summary>
    public TokenLabelSection TokenLabel { get; init; } = new();
    /// <summary>Dense (and linear) probes on a frozen backbone.</summary>
    public ProbeSection Probe { get; init; } = new();
    /// <summary>Checkpoint cadence and retention.</summary>
    public CheckpointSection Checkpoint { get; init; } = new();
    /// <summary>
    /// Self-supervised pretraining (DINOv2) instead of supervised classification; left out of the canonical form while
    /// it is off, so the configurations of supervised runs keep their hashes.
    /// </summary>
    [ConfigOmitWhenDefault]
    public SslSection Ssl { get; init; } = new();

    /// <summary>SHA-256 (hex) of the canonical JSON (<see cref="ConfigJson.Hash"/>).</summary>
    public string Hash() => ConfigJson.Hash(this);

    /// <summary>The run directory name: <c>&lt;name&gt;-&lt;first 12 hex digits of the hash&gt;</c>.</summary>
    public string RunId() => $"{Name}-{Hash()[..12]}";

    /// <summary>Defaults + files + overrides (see <see cref="ConfigLoader"/>).</summary>
    public static RunConfig Load(IEnumerable<string> files, IEnumerable<string> overrides) => ConfigLoader.Load<RunConfig>(files, overrides);

    /// <summary>Defaults + an optional file + overrides.</summary>
    public static RunConfig Load(string? file, params string[] overrides) => Load(file is null ? [] : [file], overrides);

    /// <summary>Parses a saved config.json (or any JSON subset of the keys).</summary>
    public static RunConfig FromJson(string json, string origin = "config JSON") => ConfigLoader.FromJson<RunConfig>(json, origin);

    /// <summary>The canonical JSON text (compact).</summary>
    public string ToCanonicalJson() => ConfigJson.Canonical(this);

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^(cpu|cuda(:[0-9]+)?)$")]
    private static partial Regex DevicePattern();

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(NamePattern().IsMatch(Name) && Name != "." && Name != "..", prefix, "name",
            $"must be non-empty and use only letters, digits, '.', '_' and '-' (it names the run directory), got '{Name}'");
        ConfigCheck.Require(Seed >= 0, prefix, "seed", $"must be ≥ 0 (got {Seed})");
        ConfigCheck.Require(DevicePattern().IsMatch(Device), prefix, "device", $"must be cpu, cuda or cuda:N (got '{Device}')");
        ConfigCheck.Require(Threads >= 0, prefix, "threads", $"must be ≥ 0 (0 = default), got {Threads}");
        Model.Validate(ConfigCheck.Join(prefix, "model"));
        Data.Validate(ConfigCheck.Join(prefix, "data"));
        Optim.Validate(ConfigCheck.Join(prefix, "optim"));
        Aug.Validate(ConfigCheck.Join(prefix, "aug"));
        TokenLabel.Validate(ConfigCheck.Join(prefix, "token_label"));
        Probe.Validate(ConfigCheck.Join(prefix, "probe"));
        Checkpoint.Validate(ConfigCheck.Join(prefix, "checkpoint"));
        Ssl.Validate(ConfigCheck.Join(prefix, "ssl"));
    }
}
