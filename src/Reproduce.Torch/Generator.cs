using Reproduce.Torch.Native;

namespace Reproduce.Torch;

/// <summary>A random number generator (at::Generator) whose state can be saved and restored.</summary>
public sealed class Generator : IDisposable
{
    private IntPtr _handle;

    private Generator(IntPtr handle) => _handle = handle;

    /// <summary>A new generator on <paramref name="device"/> seeded with <paramref name="seed"/>.</summary>
    public Generator(ulong seed, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        NativeMethods.Check(NativeMethods.rn_generator_new((int)d.Type, d.Index, seed, out _handle), "Generator");
    }

    /// <summary>The process's default generator for a device (shared with every op that takes none).</summary>
    public static Generator Default(Device? device = null)
    {
        var d = device ?? Device.Cpu;
        NativeMethods.Check(NativeMethods.rn_generator_default((int)d.Type, d.Index, out var h), "Generator.Default");
        return new Generator(h);
    }

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(Generator));

    /// <summary>Reseeds the generator.</summary>
    public void ManualSeed(ulong seed) => NativeMethods.Check(NativeMethods.rn_generator_set_seed(Handle, seed), "Generator.ManualSeed");

    /// <summary>The full state as a uint8 tensor (for checkpoints).</summary>
    public Tensor GetState()
    {
        NativeMethods.Check(NativeMethods.rn_generator_get_state(Handle, out var h), "Generator.GetState");
        return new Tensor(h, "Generator.GetState");
    }

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(Tensor state) => NativeMethods.Check(NativeMethods.rn_generator_set_state(Handle, state.Handle), "Generator.SetState");

    /// <inheritdoc/>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.rn_generator_free(h);
        GC.SuppressFinalize(this);
    }

    /// <summary>Safety net only; dispose generators explicitly.</summary>
    ~Generator()
    {
        if (_handle != IntPtr.Zero) NativeMethods.rn_generator_free(_handle);
    }
}
