namespace Reproduce.Torch.Distributed;

/// <summary>How <see cref="ProcessGroup.AllReduce"/> combines the ranks' tensors.</summary>
public enum ReduceOp
{
    /// <summary>Σᵣ xᵣ.</summary>
    Sum = 0,

    /// <summary>(1/W) Σᵣ xᵣ (a sum divided at completion: Gloo has no AVG).</summary>
    Average = 1,
}
