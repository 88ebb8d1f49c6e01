namespace Reproduce.Torch;

// In-place random fills (used by initialisers and augmentations).
public partial class Tensor
{
    /// <summary>In place: uniform on [from, to).</summary>
    public Tensor Uniform_(double from = 0, double to = 1, Generator? generator = null) => A("aten::uniform_").InvokeInPlace(this, from, to, generator);
    /// <summary>In place: normal with mean and std.</summary>
    public Tensor Normal_(double mean = 0, double std = 1, Generator? generator = null) => A("aten::normal_").InvokeInPlace(this, mean, std, generator);
    /// <summary>In place: 1 with probability p, else 0.</summary>
    public Tensor Bernoulli_(double p, Generator? generator = null) => A("aten::bernoulli_.float").InvokeInPlace(this, p, generator);
    /// <summary>In place: exponential with rate λ.</summary>
    public Tensor Exponential_(double lambda = 1, Generator? generator = null) => A("aten::exponential_").InvokeInPlace(this, lambda, generator);
    /// <summary>In place: integers uniform in [from, to).</summary>
    public Tensor Random_(long from, long to, Generator? generator = null) => A("aten::random_.from").InvokeInPlace(this, from, to, generator);
    /// <summary>Uninitialised tensor with this one's dtype and device.</summary>
    public Tensor NewEmpty(params long[] shape) => A("aten::new_empty").Invoke(this, shape);
    /// <summary>Zeros with this one's dtype and device.</summary>
    public Tensor NewZeros(params long[] shape) => A("aten::new_zeros").Invoke(this, shape);
}
