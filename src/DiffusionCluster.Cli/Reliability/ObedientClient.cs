using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace DiffusionCluster.Cli.Reliability;

/// How one job ended, seen from its client. Completed, Failed (the job ended in an error), Lost (accepted, then
/// unknown or never ended within the client's patience) or Refused (never accepted).
/// Retries: the answers that made the client submit again (status and the start of the message), each with when it came
/// (seconds from the job's start). Seconds: when the job ended, AcceptedAt: when a submission was accepted (null if
/// none was), both from its start.
public sealed record JobOutcome(string Result, int Submissions, int Requests, double Seconds, int MaxAttempt, string? Error, IReadOnlyList<Retry> Retries,
    double? AcceptedAt);

/// One answer that made a client submit its job again, At seconds after the job's start.
public sealed record Retry(double At, string Answer);

/// A client of the gateways' job API that does what a well-behaved user does: submits a job, waits as long as a
/// 429 or 503 answer's Retry-After says before trying again, follows the job's event stream to its end, and moves to
/// the next gateway when the one it used stops answering. Counts every HTTP request it sends.
public sealed class ObedientClient(HttpClient http, IReadOnlyList<Uri> gateways, TimeSpan patience)
{
    static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(1);

    /// Runs one job to its end. progress sees the stage name of each progress event (to time a fault).
    public async Task<JobOutcome> Run(object body, int firstGateway, Action<string>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(patience);
        int gateway = firstGateway % gateways.Count, submissions = 0, requests = 0, maxAttempt = 0;
        string? lastAnswer = null;
        var retries = new List<Retry>();
        double? acceptedAt = null;
        JobOutcome End(string result, string? error) => new(result, submissions, requests, clock.Elapsed.TotalSeconds, maxAttempt, error, retries, acceptedAt);
        Uri At(string path) => new(gateways[gateway], path);

        string? id = null;
        while (id is null)
        {
            if (stop.IsCancellationRequested) return End("refused", $"not accepted within {patience.TotalSeconds:0} s; last answer: {lastAnswer}");
            submissions++;
            requests++;
            try
            {
                using var response = await http.PostAsJsonAsync(At("/v1/jobs"), body, stop.Token);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    id = (await response.Content.ReadFromJsonAsync<JsonElement>(stop.Token)).GetProperty("id").GetString();
                    acceptedAt = clock.Elapsed.TotalSeconds;
                    break;
                }
                lastAnswer = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(stop.Token)}";
                if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)) return End("refused", lastAnswer);
                retries.Add(new(clock.Elapsed.TotalSeconds, lastAnswer[..Math.Min(160, lastAnswer.Length)]));
                await Delay(RetryAfter(response), stop.Token);
            }
            catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !stop.IsCancellationRequested)
            {
                lastAnswer = e.Message;
                retries.Add(new(clock.Elapsed.TotalSeconds, $"no answer: {e.Message}"));
                gateway = (gateway + 1) % gateways.Count;
                await Delay(Reconnect, stop.Token);
            }
            catch (OperationCanceledException) { }
        }

        while (true)
        {
            if (stop.IsCancellationRequested) return End("lost", $"job {id} did not end within {patience.TotalSeconds:0} s; last answer: {lastAnswer}");
            requests++;
            try
            {
                using var response = await http.GetAsync(At($"/v1/jobs/{id}/events"), HttpCompletionOption.ResponseHeadersRead, stop.Token);
                if (response.StatusCode == HttpStatusCode.NotFound) return End("lost", $"job {id}: 404 {await response.Content.ReadAsStringAsync(stop.Token)}");
                if (!response.IsSuccessStatusCode)
                {
                    lastAnswer = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(stop.Token)}";
                    await Delay(RetryAfter(response), stop.Token);
                    continue;
                }
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
                string? name = null;
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
                    if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                    var status = JsonDocument.Parse(line["data: ".Length..]).RootElement;
                    if (status.TryGetProperty("stage", out var stage) && stage.ValueKind == JsonValueKind.String) progress?.Invoke(stage.GetString()!);
                    if (status.TryGetProperty("timings", out var timings) && timings.ValueKind == JsonValueKind.Array)
                        maxAttempt = timings.EnumerateArray().Select(t => t.GetProperty("attempt").GetInt32()).DefaultIfEmpty(0).Max();
                    if (name == "done") return End("completed", null);
                    if (name == "error") return End("failed", status.GetProperty("error").GetString());
                }
                lastAnswer = "the event stream ended before the job did";
            }
            catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !stop.IsCancellationRequested)
            {
                lastAnswer = e.Message;
            }
            catch (OperationCanceledException)
            {
                continue;
            }
            // The gateway went away mid-stream, or the stream broke: follow the job on the next gateway.
            gateway = (gateway + 1) % gateways.Count;
            await Delay(Reconnect, stop.Token);
        }
    }

    static TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta is { } delta && delta > TimeSpan.Zero ? delta : Reconnect;

    static async Task Delay(TimeSpan wait, CancellationToken stop)
    {
        try { await Task.Delay(wait, stop); } catch (OperationCanceledException) { }
    }
}
