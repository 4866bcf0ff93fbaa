using Npgsql;

namespace DiffusionCluster.Grains.Hosting;

/// Applies deploy/postgresql/schema.sql (embedded in this assembly) to a PostgreSQL database: the tables
/// and the OrleansQuery rows that Orleans' ADO.NET clustering reads. Safe to run again.
public static class ClusterSchema
{
    const string Resource = "DiffusionCluster.Grains.schema.sql";

    public static string Script()
    {
        using var stream = typeof(ClusterSchema).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"resource {Resource} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static async Task Apply(string connectionString, string? scriptFile = null, CancellationToken cancellation = default)
    {
        var script = scriptFile is null ? Script() : await File.ReadAllTextAsync(scriptFile, cancellation);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var command = new NpgsqlCommand(script, connection, transaction))
            await command.ExecuteNonQueryAsync(cancellation);
        await transaction.CommitAsync(cancellation);
    }
}
