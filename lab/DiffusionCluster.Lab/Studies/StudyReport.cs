using System.Text.Json;

namespace DiffusionCluster.Lab.Studies;

/// A table of a study: named columns, one row per setting, values already formatted.
public sealed record StudyTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows, string? Note = null);

/// What a study writes: Markdown tables (and plots) a person reads, and the same figures as JSON.
public sealed class StudyReport(string title, string command)
{
    readonly List<StudyTable> _tables = [];
    readonly List<string> _images = [];
    readonly Dictionary<string, object> _figures = [];

    public string Title { get; } = title;
    public string Command { get; } = command;

    public void Add(StudyTable table) => _tables.Add(table);
    public void Image(string file, string caption) => _images.Add($"![{caption}]({file})\n\n{caption}");
    public void Figure(string name, object value) => _figures[name] = value;

    public string ToMarkdown()
    {
        var lines = new List<string> { $"# {Title}", "", $"Produced by `{Command}`.", "" };
        foreach (var table in _tables)
        {
            lines.Add($"## {table.Title}");
            lines.Add("");
            lines.Add("| " + string.Join(" | ", table.Columns) + " |");
            lines.Add("|" + string.Join("|", table.Columns.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
            lines.AddRange(table.Rows.Select(r => "| " + string.Join(" | ", r) + " |"));
            lines.Add("");
            if (table.Note is not null) lines.AddRange([table.Note, ""]);
        }
        foreach (var image in _images) lines.AddRange([image, ""]);
        return string.Join("\n", lines);
    }

    public void Write(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, $"{name}.md"), ToMarkdown());
        var json = new { Title, Command, Tables = _tables, Figures = _figures };
        File.WriteAllText(Path.Combine(folder, $"{name}.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static string Percent(double fraction) => $"{100 * fraction:F1}%";

    /// "41.7% (5/12)": a share with its counts.
    public static string Percent(int part, int whole) => $"{Percent(whole == 0 ? 0 : (double)part / whole)} ({part}/{whole})";
}
