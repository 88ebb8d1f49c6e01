using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>Call helpers shared by the layers.</summary>
internal static class ModuleCalls
{
    /// <summary>
    /// Runs <paramref name="module"/>, except that an <see cref="Identity"/> returns <paramref name="x"/> itself
    /// (as PyTorch's <c>nn.Identity</c> does) instead of dispatching an alias op.
    /// </summary>
    public static Tensor Call(this Module<Tensor, Tensor> module, Tensor x) => module is Identity ? x : module.Forward(x);

    /// <summary>Dropout that is skipped entirely (no op dispatched) when it cannot change anything.</summary>
    public static Tensor MaybeDropout(Tensor x, double p, bool training) => training && p > 0 ? F.Dropout(x, p, true) : x;
}
