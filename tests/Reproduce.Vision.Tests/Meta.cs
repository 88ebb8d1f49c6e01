namespace Reproduce.Vision.Tests;

/// <summary>
/// libtorch's "meta" device (c10::DeviceType::Meta = 14 in libtorch 1.13 and 2.x): tensors with shapes and dtypes but
/// no storage, so full-size models (ViT-B, ViT-L, ResNet-50) can be built and their parameters counted in
/// milliseconds instead of allocating and initialising hundreds of MB. Reproduce.Torch's <see cref="DeviceType"/>
/// names only CPU and CUDA, hence the cast.
/// </summary>
internal static class Meta
{
    public static readonly Device Device = new((DeviceType)14);

    /// <summary>Parameter count of a model built on the meta device by <paramref name="build"/>.</summary>
    public static long Count(Func<Device, Reproduce.Torch.Nn.Module> build)
    {
        using var m = build(Device);
        return m.ParameterCount();
    }
}
