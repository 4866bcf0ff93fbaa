namespace DiffusionCluster.Diffusion;

/// Which of the T training timesteps a sampler visits, as in guided-diffusion's space_timesteps.
public static class Respacing
{
    /// Parses "50" or "ddim50" (evenly strided) or "10,10,7" (that many steps in each equal section of [0, T),
    /// the "fast27" style). Returns the chosen timesteps in ascending order.
    public static int[] Parse(string spec, int trainTimesteps)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException("empty respacing spec; use e.g. \"50\", \"ddim25\" or \"10,10,7\"");
        spec = spec.Trim();
        if (spec.StartsWith("ddim", StringComparison.OrdinalIgnoreCase))
            return Strided(ParseCount(spec[4..], spec), trainTimesteps);
        var sections = spec.Split(',').Select(s => ParseCount(s, spec)).ToArray();
        return sections.Length == 1 ? Evenly(sections[0], trainTimesteps) : Sections(sections, trainTimesteps);
    }

    /// n timesteps spread evenly over [0, T-1], always including the last (pure-noise end) one.
    public static int[] Evenly(int steps, int trainTimesteps)
    {
        CheckCount(steps, trainTimesteps);
        if (steps == 1) return new[] { trainTimesteps - 1 };
        return Enumerable.Range(0, steps)
            .Select(i => (int)Math.Round(i * (trainTimesteps - 1) / (double)(steps - 1)))
            .ToArray();
    }

    /// n timesteps spread evenly over (0, T-1]: Evenly(n + 1) without t = 0, so the last step goes from about T/n
    /// straight to the clean image. With n = T every timestep is visited.
    public static int[] AboveZero(int steps, int trainTimesteps)
    {
        CheckCount(steps, trainTimesteps);
        return steps == trainTimesteps ? Evenly(steps, trainTimesteps) : Evenly(steps + 1, trainTimesteps)[1..];
    }

    /// DDIM's integer stride: t = 0, s, 2s, ... for the stride s that yields exactly n steps (guided-diffusion's "ddimN").
    public static int[] Strided(int steps, int trainTimesteps)
    {
        CheckCount(steps, trainTimesteps);
        for (int stride = 1; stride <= trainTimesteps; stride++)
        {
            int count = (trainTimesteps + stride - 1) / stride;
            if (count == steps) return Enumerable.Range(0, count).Select(i => i * stride).ToArray();
        }
        throw new ArgumentException($"no integer stride gives exactly {steps} steps out of {trainTimesteps}; use a plain count such as \"{steps}\"");
    }

    static int[] Sections(int[] counts, int trainTimesteps)
    {
        int sectionSize = trainTimesteps / counts.Length, extra = trainTimesteps % counts.Length;
        var result = new SortedSet<int>();
        int start = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            int size = sectionSize + (i < extra ? 1 : 0);
            if (counts[i] > size) throw new ArgumentException($"section {i} has {size} timesteps; cannot take {counts[i]} from it");
            double stride = counts[i] <= 1 ? 1 : (size - 1) / (double)(counts[i] - 1);
            for (int j = 0; j < counts[i]; j++) result.Add(start + (int)Math.Round(j * stride));
            start += size;
        }
        return result.ToArray();
    }

    static int ParseCount(string text, string spec) =>
        int.TryParse(text.Trim(), out var n) && n > 0
            ? n
            : throw new ArgumentException($"respacing spec \"{spec}\" has \"{text}\" where a positive step count belongs");

    static void CheckCount(int steps, int trainTimesteps)
    {
        if (steps < 1 || steps > trainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"step count must be between 1 and the {trainTimesteps} training timesteps");
    }
}
