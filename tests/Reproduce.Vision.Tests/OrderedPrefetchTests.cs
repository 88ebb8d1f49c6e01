using Reproduce.Vision.Data.Loading;

namespace Reproduce.Vision.Tests;

/// <summary>The ordered, bounded hand-over behind every input pipeline.</summary>
public sealed class OrderedPrefetchTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void ItemsArriveInOrderWithAtMostPrefetchBuiltAhead(int workers)
    {
        const int prefetch = 2;
        var inFlight = 0;
        var most = 0;
        var threads = new HashSet<int>();
        using var p = new OrderedPrefetch<int>(20, i =>
        {
            var now = Interlocked.Increment(ref inFlight);
            lock (threads)
            {
                most = Math.Max(most, now);
                threads.Add(Environment.CurrentManagedThreadId);
            }
            Thread.Sleep((i * 7) % 5); // out-of-order completion
            return i * i;
        }, workers, prefetch);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i * i, p.Take(i));
            Interlocked.Decrement(ref inFlight);
        }
        // Take frees the slot just before the test's own count drops, so one more may be seen starting at that moment.
        Assert.True(most <= (workers == 0 ? 1 : prefetch + 1), $"{most} items built or waiting at once");
        Assert.Equal(workers == 0, threads.SetEquals([Environment.CurrentManagedThreadId]));
    }

    [Fact]
    public void AFailedBuildIsThrownAtItsTurnAndOutOfOrderTakesAreRefused()
    {
        using var p = new OrderedPrefetch<int>(5, i => i == 2 ? throw new InvalidDataException("sample 2 is broken") : i, 2, 2);
        Assert.Equal(0, p.Take(0));
        Assert.Contains("asked for 3, next is 1", Assert.Throws<InvalidOperationException>(() => p.Take(3)).Message);
        Assert.Equal(1, p.Take(1));
        Assert.Equal("sample 2 is broken", Assert.Throws<InvalidDataException>(() => p.Take(2)).Message);
    }

    [Fact]
    public void DisposingDiscardsEveryItemBuiltButNotTaken()
    {
        var built = 0;
        var discarded = 0;
        var p = new OrderedPrefetch<int>(50, i => { Interlocked.Increment(ref built); return i; }, 2, 4, _ => Interlocked.Increment(ref discarded));
        Assert.Equal(0, p.Take(0));
        Thread.Sleep(50);
        p.Dispose();
        Assert.Equal(built - 1, discarded);
        Assert.True(built <= 5, $"{built} built with a queue of 4");
    }
}
