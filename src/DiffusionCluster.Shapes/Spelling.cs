namespace DiffusionCluster.Shapes;

/// The known word nearest a misspelt one, for "did you mean" hints (a prompt's unknown words, a command line's
/// unknown options).
public static class Spelling
{
    /// The known word closest to `word`, when it is close enough to be a slip (one edit for words of up to four
    /// letters, two for longer ones; an insertion, deletion, substitution or swap of neighbours is one edit) and no
    /// other known word is as close; otherwise null.
    public static string? Closest(string word, IEnumerable<string> known)
    {
        int allowed = word.Length <= 4 ? 1 : 2;
        var nearest = known.Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(k => (Word: k, Distance: Distance(word.ToLowerInvariant(), k.ToLowerInvariant())))
            .Where(k => k.Distance <= allowed).OrderBy(k => k.Distance).Take(2).ToList();
        return nearest.Count switch
        {
            0 => null,
            1 => nearest[0].Word,
            _ => nearest[0].Distance < nearest[1].Distance ? nearest[0].Word : null,
        };
    }

    /// The optimal string alignment distance: Levenshtein's, with a swap of two neighbouring letters as one edit.
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
        {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
