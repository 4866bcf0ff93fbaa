using DiffusionCluster.Lab.Studies;
using Candidate = DiffusionCluster.Lab.Studies.RerankStudy.Candidate;

namespace DiffusionCluster.Lab.Tests;

/// The table of `study rerank`, checked on candidates whose answer is known.
public class RerankStudyTests
{
    [Fact]
    public void Clip_pick_and_any_of_k_count_only_the_first_k_candidates()
    {
        // Prompt 0 (1 object): its second candidate is correct and CLIP ranks it first.
        // Prompt 1 (2 objects): its fourth candidate is correct but CLIP prefers the wrong third.
        var scored = new List<IReadOnlyList<Candidate>>
        {
            new Candidate[] { new(false, 0.90), new(true, 0.95), new(false, 0.91), new(false, 0.92) },
            new Candidate[] { new(false, 0.90), new(false, 0.91), new(false, 0.99), new(true, 0.93) },
        };

        var table = RerankStudy.Tabulate([1, 2], scored);

        Assert.Equal(["candidates k", "CLIP pick, 1 object", "CLIP pick, 2 objects", "CLIP pick, all", "any of k, 1 object", "any of k, 2 objects", "any of k, all"], table.Columns);
        Assert.Equal(["1", "0.0% (0/1)", "0.0% (0/1)", "0.0% (0/2)", "0.0% (0/1)", "0.0% (0/1)", "0.0% (0/2)"], table.Rows[0]);
        Assert.Equal(["2", "100.0% (1/1)", "0.0% (0/1)", "50.0% (1/2)", "100.0% (1/1)", "0.0% (0/1)", "50.0% (1/2)"], table.Rows[1]);
        Assert.Equal(["4", "100.0% (1/1)", "0.0% (0/1)", "50.0% (1/2)", "100.0% (1/1)", "100.0% (1/1)", "100.0% (2/2)"], table.Rows[2]);
        Assert.Contains("25.0% (2/8) of all pictures", table.Note);
    }

    [Fact]
    public void Candidate_zero_keeps_the_seed_and_every_candidate_draws_other_noise()
    {
        Assert.Equal(1234UL, RerankStudy.CandidateSeed(1234, 0));
        // libtorch's CPU generator keeps 32 bits of a seed: candidates must differ there.
        var low = Enumerable.Range(0, RerankStudy.MaxCandidates).Select(c => (uint)RerankStudy.CandidateSeed(uint.MaxValue - 5, c)).ToList();
        Assert.Equal(low.Count, low.Distinct().Count());
    }
}
