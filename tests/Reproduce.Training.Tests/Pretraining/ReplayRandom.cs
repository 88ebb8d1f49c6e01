using System.Text.Json;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// A <see cref="Random"/> that returns draws recorded from Python's random.Random (gen_masking.py): "u" entries
/// are random() values (NextDouble), "i" entries are _randbelow(n) results (Next(n), or Next(lo, hi) as lo plus a
/// draw below hi − lo, which is how Python's randint draws). A draw of the wrong kind or range fails the test.
/// </summary>
internal sealed class ReplayRandom(JsonElement draws) : Random
{
    private int _next;

    public int Remaining => draws.GetArrayLength() - _next;

    private JsonElement Take(string kind)
    {
        Assert.True(_next < draws.GetArrayLength(), $"replay: draw {_next} ({kind}) past the {draws.GetArrayLength()} recorded");
        var d = draws[_next++];
        Assert.True(d[0].GetString() == kind, $"replay: draw {_next - 1} is {d[0].GetString()}, the port asked for {kind}");
        return d;
    }

    public override double NextDouble() => Take("u")[1].GetDouble();

    public override int Next(int maxValue)
    {
        var d = Take("i");
        Assert.True(d[1].GetInt32() == maxValue, $"replay: draw {_next - 1} was below {d[1].GetInt32()}, the port asked below {maxValue}");
        return d[2].GetInt32();
    }

    public override int Next(int minValue, int maxValue) => minValue + Next(maxValue - minValue);

    protected override double Sample() => throw new InvalidOperationException("replay: unexpected draw kind");

    public override int Next() => throw new InvalidOperationException("replay: unexpected draw kind");
}
