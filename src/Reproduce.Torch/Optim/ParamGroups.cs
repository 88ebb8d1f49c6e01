using System.Text;
using System.Text.RegularExpressions;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>Builders of parameter groups (like timm's <c>timm.optim._param_groups</c>).</summary>
public static class ParamGroups
{
    /// <summary>
    /// Splits the trainable parameters of <paramref name="model"/> into a no-decay group (weight decay 0) and a
    /// decay group (<paramref name="weightDecay"/>), as timm's <c>param_groups_weight_decay</c>: a parameter
    /// goes to the no-decay group when it has at most one dimension (biases, norm scales), its name ends in
    /// <c>.bias</c>, or its name matches one of <paramref name="noWeightDecay"/> (fnmatch patterns: <c>*</c>,
    /// <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>; a plain name matches only itself). Parameters that do not require
    /// grad are left out. Groups are returned in timm's order — no-decay ("no_decay") first, then decay
    /// ("decay") — and an empty group is omitted. Their lr is left to the optimizer's default.
    /// </summary>
    /// <param name="model">The model whose named parameters are grouped.</param>
    /// <param name="weightDecay">Weight decay of the decay group.</param>
    /// <param name="noWeightDecay">
    /// Null means the model's own <see cref="Module.NoWeightDecay"/>, which is what timm's <c>create_optimizer</c>
    /// passes; pass an empty list for timm's bare function default.
    /// </param>
    public static List<ParamGroup> WeightDecayExclusion(Module model, double weightDecay, IEnumerable<string>? noWeightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var patterns = (noWeightDecay ?? model.NoWeightDecay()).Select(FnmatchRegex).ToArray();
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in model.NamedParameters())
        {
            if (!p.RequiresGrad) continue;
            if (p.Dim <= 1 || name.EndsWith(".bias", StringComparison.Ordinal) || patterns.Any(r => r.IsMatch(name)))
                noDecay.Add(p);
            else
                decay.Add(p);
        }
        var groups = new List<ParamGroup>();
        if (noDecay.Count > 0) groups.Add(new ParamGroup(noDecay, weightDecay: 0.0, name: "no_decay"));
        if (decay.Count > 0) groups.Add(new ParamGroup(decay, weightDecay: weightDecay, name: "decay"));
        return groups;
    }

    /// <summary>Python's <c>fnmatch.translate</c> (POSIX, case-sensitive) as an anchored regex.</summary>
    internal static Regex FnmatchRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': sb.Append("[\\s\\S]*"); break;
                case '?': sb.Append("[\\s\\S]"); break;
                case '[':
                {
                    var j = i + 1;
                    if (j < pattern.Length && pattern[j] == '!') j++;
                    if (j < pattern.Length && pattern[j] == ']') j++;
                    while (j < pattern.Length && pattern[j] != ']') j++;
                    if (j >= pattern.Length)
                    {
                        sb.Append("\\[");
                        break;
                    }
                    var body = pattern[(i + 1)..j];
                    var negate = body.StartsWith('!');
                    if (negate) body = body[1..];
                    body = body.Replace("\\", "\\\\").Replace("[", "\\[");
                    if (body.StartsWith('^')) body = "\\" + body;
                    sb.Append('[').Append(negate ? "^" : "").Append(body).Append(']');
                    i = j;
                    break;
                }
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return new Regex(sb.Append("\\z").ToString(), RegexOptions.CultureInvariant);
    }
}
