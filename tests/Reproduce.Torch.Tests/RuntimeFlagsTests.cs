namespace Reproduce.Torch.Tests;

/// <summary>
/// Process-wide TF32 flags: libtorch's defaults (PyTorch documents cuBLAS TF32 off, cuDNN TF32 on since 1.12) and that
/// each setter changes its own flag only. Serial: the flags are global.
/// </summary>
[Collection(SerialCollection.Name)]
public class RuntimeFlagsTests
{
    [Fact]
    public void Tf32FlagsStartAtLibtorchDefaultsAndSetIndependently()
    {
        var (matmul, cudnn) = (Torch.AllowTf32Matmul, Torch.AllowTf32Cudnn);
        try
        {
            Assert.False(matmul);
            Assert.True(cudnn);
            Torch.AllowTf32Matmul = true;
            Assert.True(Torch.AllowTf32Matmul);
            Assert.True(Torch.AllowTf32Cudnn);
            Torch.AllowTf32Cudnn = false;
            Assert.True(Torch.AllowTf32Matmul);
            Assert.False(Torch.AllowTf32Cudnn);
        }
        finally
        {
            (Torch.AllowTf32Matmul, Torch.AllowTf32Cudnn) = (matmul, cudnn);
        }
    }
}
