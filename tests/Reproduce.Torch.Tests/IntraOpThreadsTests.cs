namespace Reproduce.Torch.Tests;

/// <summary>The intra-op thread limit: lowered inside the block, restored after, never raised. Serial: it sets the thread count.</summary>
[Collection(SerialCollection.Name)]
public class IntraOpThreadsTests
{
    [Fact]
    public void LowersTheCountInsideTheBlockAndRestoresIt()
    {
        var before = Torch.NumThreads;
        try
        {
            Torch.NumThreads = 2;
            using (var limit = IntraOpThreads.AtMost(1))
            {
                Assert.Equal(1, Torch.NumThreads);
                Assert.Equal(2, limit.Previous);
            }
            Assert.Equal(2, Torch.NumThreads);
            using (IntraOpThreads.AtMost(3)) Assert.Equal(2, Torch.NumThreads);
            Assert.Equal(2, Torch.NumThreads);
            Assert.Throws<ArgumentOutOfRangeException>(() => IntraOpThreads.AtMost(0));
        }
        finally
        {
            Torch.NumThreads = before;
        }
    }
}
