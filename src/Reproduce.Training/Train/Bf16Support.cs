using Reproduce.Torch;
using Reproduce.Training.Config;

namespace Reproduce.Training.Train;

/// <summary>
/// Whether a run's device can run <c>autocast_bf16</c>: the CPU (libtorch's CPU autocast) or a CUDA device of compute
/// capability 8.0 or newer (PyTorch's <c>torch.cuda.is_bf16_supported()</c>). Checked before a run writes anything.
/// </summary>
internal static class Bf16Support
{
    /// <summary>Throws a <see cref="ConfigException"/> naming <c>autocast_bf16</c> when the device cannot run it.</summary>
    public static void Check(RunConfig c)
    {
        if (!c.AutocastBf16 || Device.Parse(c.Device) is not { Type: DeviceType.Cuda } d) return;
        var index = Math.Max(d.Index, 0);
        var why = !Cuda.IsAvailable ? "this libtorch has no usable CUDA device"
            : index >= Cuda.DeviceCount ? $"the machine has {Cuda.DeviceCount} CUDA device(s)"
            : !Cuda.IsBf16Supported(index) ? "its compute capability is below 8.0"
            : null;
        if (why is not null)
            throw new ConfigException($"autocast_bf16: device '{c.Device}' cannot run bf16 autocast ({why}); set autocast_bf16=false", "autocast_bf16");
    }
}
