using Reproduce.Torch.Native;

namespace Reproduce.Torch;

public partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor.</summary>
    public bool RequiresGrad
    {
        get => (Info().Flags & 1) != 0;
        set => NativeMethods.Check(NativeMethods.rn_tensor_set_requires_grad(Handle, value ? 1 : 0), $"RequiresGrad({Describe()})");
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor.</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>True for tensors not produced by a recorded op (parameters, inputs).</summary>
    public bool IsLeaf => (Info().Flags & 2) != 0;

    /// <summary>The accumulated gradient (a new handle in the current scope), or null.</summary>
    public Tensor? Grad
    {
        get
        {
            NativeMethods.Check(NativeMethods.rn_tensor_grad(Handle, out var g), "Tensor.Grad");
            return g == IntPtr.Zero ? null : new Tensor(g, "Tensor.Grad");
        }
        set => NativeMethods.Check(NativeMethods.rn_tensor_set_grad(Handle, value?.Handle ?? IntPtr.Zero), "Tensor.Grad = ");
    }

    /// <summary>Clears the gradient: drops it (<paramref name="setToNone"/>, PyTorch 2's default) or zeroes it.</summary>
    public void ZeroGrad(bool setToNone = true) =>
        NativeMethods.Check(NativeMethods.rn_tensor_zero_grad(Handle, setToNone ? 1 : 0), "Tensor.ZeroGrad");

    /// <summary>Keeps the gradient of a non-leaf tensor after backward.</summary>
    public void RetainGrad() => NativeMethods.Check(NativeMethods.rn_tensor_retain_grad(Handle), "Tensor.RetainGrad");

    /// <summary>Name of the autograd node that produced this tensor ("" for leaves).</summary>
    public unsafe string GradFnName
    {
        get
        {
            var buf = stackalloc byte[256];
            NativeMethods.Check(NativeMethods.rn_tensor_grad_fn_name(Handle, buf, 256), "Tensor.GradFnName");
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8((IntPtr)buf) ?? "";
        }
    }

    /// <summary>
    /// Back-propagates from this tensor (a scalar, or with an explicit <paramref name="gradient"/>).
    /// <paramref name="retainGraph"/> defaults to <paramref name="createGraph"/>, as in PyTorch.
    /// </summary>
    public unsafe void Backward(Tensor? gradient = null, bool? retainGraph = null, bool createGraph = false)
    {
        var root = Handle;
        var grad = gradient?.Handle ?? IntPtr.Zero;
        var status = NativeMethods.rn_backward(&root, &grad, 1, (retainGraph ?? createGraph) ? 1 : 0, createGraph ? 1 : 0);
        if (status != NativeMethods.Ok)
            throw new TorchException($"backward from {Describe()}{(gradient is null ? "" : " with gradient " + gradient.Describe())}: {NativeMethods.LastError()}");
        GC.KeepAlive(gradient);
    }

    /// <summary>A tensor sharing data with this one, cut from the autograd graph.</summary>
    public Tensor Detach() => Op.Get("aten::detach").Invoke(this);

    /// <summary>Detaches in place.</summary>
    public Tensor Detach_() => Op.Get("aten::detach_").InvokeInPlace(this);
}

/// <summary>Functional autograd (torch.autograd.grad).</summary>
public static class Autograd
{
    /// <summary>
    /// Gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/>; an entry is
    /// null when an input is unused and <paramref name="allowUnused"/> is set.
    /// <paramref name="retainGraph"/> defaults to <paramref name="createGraph"/>, as in PyTorch (a
    /// graph built for double backward is kept).
    /// </summary>
    public static unsafe Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs,
        IReadOnlyList<Tensor?>? gradOutputs = null, bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
    {
        var o = outputs.Select(t => t.Handle).ToArray();
        var go = gradOutputs?.Select(t => t?.Handle ?? IntPtr.Zero).ToArray();
        var i = inputs.Select(t => t.Handle).ToArray();
        var res = new IntPtr[i.Length];
        int status;
        fixed (IntPtr* po = o, pgo = go, pi = i, pr = res)
            status = NativeMethods.rn_autograd_grad(po, pgo, o.Length, pi, i.Length, (retainGraph ?? createGraph) ? 1 : 0, createGraph ? 1 : 0, allowUnused ? 1 : 0, pr);
        if (status != NativeMethods.Ok)
            throw new TorchException($"autograd.grad of [{string.Join(", ", outputs.Select(t => t.Describe()))}] w.r.t. [{string.Join(", ", inputs.Select(t => t.Describe()))}]: {NativeMethods.LastError()}");
        GC.KeepAlive(outputs);
        GC.KeepAlive(inputs);
        GC.KeepAlive(gradOutputs);
        return res.Select(h => h == IntPtr.Zero ? null : new Tensor(h, "autograd.grad")).ToArray();
    }
}
