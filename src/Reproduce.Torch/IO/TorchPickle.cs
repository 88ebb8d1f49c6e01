using Reproduce.Torch.Native;

namespace Reproduce.Torch.IO;

/// <summary>
/// Reads the tensors of a <c>torch.save</c> file (the zip container PyTorch writes since 1.6) through
/// libtorch's own unpickler (<c>torch::pickle_load</c>). Meant for third-party data such as
/// TokenLabeling's per-image <c>.pt</c> score maps; the suite's own tensor files are safetensors.
/// </summary>
public static class TorchPickle
{
    private const int MaxTensors = 4096;

    /// <summary>
    /// The tensors of a payload in pickle order: the tensor itself, or the elements of a list, tuple or
    /// dict (values in insertion order), recursively. Each is detached, contiguous and on the CPU.
    /// </summary>
    public static unsafe Tensor[] LoadTensors(ReadOnlySpan<byte> bytes, string what = "torch.save payload")
    {
        NativeMethods.EnsureLoaded();
        var handles = new IntPtr[MaxTensors];
        int status, count;
        fixed (byte* p = bytes)
        fixed (IntPtr* h = handles)
            status = NativeMethods.rn_pickle_load_tensors(p, bytes.Length, h, handles.Length, out count);
        if (status != NativeMethods.Ok) throw new InvalidDataException($"{what}: {NativeMethods.LastError()}");
        var result = new Tensor[count];
        for (var i = 0; i < count; i++) result[i] = new Tensor(handles[i], "TorchPickle.LoadTensors");
        return result;
    }

    /// <summary>The tensors of the <c>torch.save</c> file at <paramref name="path"/> (see <see cref="LoadTensors(ReadOnlySpan{byte}, string)"/>).</summary>
    public static Tensor[] LoadTensors(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"torch.save file '{path}' does not exist", path, e); }
        return LoadTensors(bytes, path);
    }
}
