namespace Reproduce.Torch.Nn;

/// <summary>
/// A trainable tensor owned by a <see cref="Module"/>: a leaf that requires grad, never owned by a scope,
/// freed when its module is disposed. Its identity stays fixed; optimizers update it in place.
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>A parameter holding <paramref name="data"/> (detached: the parameter is a new leaf sharing its storage).</summary>
    public Parameter(Tensor data, bool requiresGrad = true)
        : base(data.Detach().StealHandle(), "Parameter", scoped: false)
    {
        RequiresGrad = requiresGrad;
    }

    /// <summary>Replaces the values (and possibly dtype/device) while keeping identity, like <c>param.data = x</c>.</summary>
    public void SetData(Tensor data) => Native.NativeMethods.Check(Native.NativeMethods.rn_tensor_set_data(Handle, data.Handle), "Parameter.SetData");
}
