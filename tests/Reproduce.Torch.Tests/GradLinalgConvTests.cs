namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of matrix products, einsum and (transposed) convolutions (float64).</summary>
public class GradLinalgConvTests
{
    [Fact]
    public void MatmulBroadcastingShapes()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(21);
        GradCheck.Check(x => x[0].Matmul(x[1]), r.Randn(3, 4), r.Randn(4, 2));      // mm
        GradCheck.Check(x => x[0].Matmul(x[1]), r.Randn(2, 3, 4), r.Randn(4, 2));   // batched × matrix
        GradCheck.Check(x => x[0].Matmul(x[1]), r.Randn(4), r.Randn(2, 4, 3));      // vector × batch
        GradCheck.Check(x => x[0].Matmul(x[1]), r.Randn(3, 4), r.Randn(4));         // mv
        GradCheck.Check(x => x[0].Matmul(x[1]), r.Randn(2, 1, 3, 4), r.Randn(3, 4, 2)); // broadcast batch dims
    }

    [Fact]
    public void MmBmm()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(22);
        GradCheck.Check(x => x[0].Mm(x[1]), r.Randn(3, 5), r.Randn(5, 2));
        GradCheck.Check(x => x[0].Mm(x[1].T()), r.Randn(3, 5), r.Randn(2, 5));
        GradCheck.Check(x => x[0].Bmm(x[1]), r.Randn(2, 3, 4), r.Randn(2, 4, 3));
    }

    [Fact]
    public void LinearWithAndWithoutBias()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(23);
        GradCheck.Check(x => F.Linear(x[0], x[1], x[2]), r.Randn(2, 3, 4), r.Randn(5, 4), r.Randn(5));
        GradCheck.Check(x => F.Linear(x[0], x[1]), r.Randn(3, 4), r.Randn(2, 4));
    }

    [Fact]
    public void Einsum()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(24);
        GradCheck.Check(x => F.Einsum("bij,bjk->bik", x[0], x[1]), r.Randn(2, 3, 4), r.Randn(2, 4, 2));
        GradCheck.Check(x => F.Einsum("i,j->ij", x[0], x[1]), r.Randn(3), r.Randn(4));
        GradCheck.Check(x => F.Einsum("bhnd,bhmd->bhnm", x[0], x[1]), r.Randn(1, 2, 3, 2), r.Randn(1, 2, 4, 2));
        GradCheck.Check(x => F.Einsum("ii->i", x[0]), r.Randn(4, 4));
        GradCheck.Check(x => F.Einsum("ij,jk,kl->il", x[0], x[1], x[2]), r.Randn(2, 3), r.Randn(3, 2), r.Randn(2, 3));
    }

    [Fact]
    public void Conv1dStridePaddingDilationGroups()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(25);
        GradCheck.Check(x => F.Conv1d(x[0], x[1], x[2]), r.Randn(2, 3, 7), r.Randn(4, 3, 3), r.Randn(4));
        GradCheck.Check(x => F.Conv1d(x[0], x[1], x[2], stride: 2, padding: 2, dilation: 2, groups: 2),
            r.Randn(1, 4, 9), r.Randn(6, 2, 3), r.Randn(6));
    }

    [Fact]
    public void Conv2dPlain()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(26);
        GradCheck.Check(x => F.Conv2d(x[0], x[1], x[2]), r.Randn(2, 2, 5, 5), r.Randn(3, 2, 3, 3), r.Randn(3));
    }

    [Fact]
    public void Conv2dStridePaddingDilation()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(27);
        GradCheck.Check(x => F.Conv2d(x[0], x[1], x[2], stride: [2, 1], padding: [1, 2], dilation: [1, 2]),
            r.Randn(1, 2, 6, 5), r.Randn(2, 2, 3, 2), r.Randn(2));
    }

    [Fact]
    public void Conv2dGroupsAndDepthwise()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(28);
        GradCheck.Check(x => F.Conv2d(x[0], x[1], x[2], padding: [1, 1], groups: 2),
            r.Randn(1, 4, 4, 4), r.Randn(4, 2, 3, 3), r.Randn(4));
        GradCheck.Check(x => F.Conv2d(x[0], x[1], null, stride: [2, 2], padding: [1, 1], groups: 3),
            r.Randn(1, 3, 5, 5), r.Randn(3, 1, 3, 3));
    }

    [Fact]
    public void ConvTranspose1d()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(29);
        GradCheck.Check(x => F.ConvTranspose1d(x[0], x[1], x[2], stride: 2, padding: 1, outputPadding: 1),
            r.Randn(2, 3, 4), r.Randn(3, 2, 3), r.Randn(2));
        GradCheck.Check(x => F.ConvTranspose1d(x[0], x[1], null, stride: 1, padding: 0, groups: 2, dilation: 2),
            r.Randn(1, 4, 4), r.Randn(4, 1, 2));
    }

    [Fact]
    public void ConvTranspose2d()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(30);
        GradCheck.Check(x => F.ConvTranspose2d(x[0], x[1], x[2], stride: [2, 2], padding: [1, 0], outputPadding: [1, 1]),
            r.Randn(1, 2, 3, 3), r.Randn(2, 3, 3, 2), r.Randn(3));
        GradCheck.Check(x => F.ConvTranspose2d(x[0], x[1], null, groups: 2, dilation: [2, 1]),
            r.Randn(1, 4, 3, 3), r.Randn(4, 1, 2, 2));
    }
}
