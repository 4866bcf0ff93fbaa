using System.Text.Json;

namespace DiffusionCluster.Models.Configs;

internal static class Check
{
    static string Key(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    public static void Range(string name, int value, int min, int max)
    {
        if (value < min || value > max) throw new ArgumentException($"{Key(name)} = {value} must be in [{min}, {max}]");
    }

    public static void Divisible(string name, int value, string divisorName, int divisor)
    {
        Range(divisorName, divisor, 1, 1024);
        Range(name, value, 1, 65536);
        if (value % divisor != 0) throw new ArgumentException($"{Key(name)} = {value} is not divisible by {Key(divisorName)} = {divisor}");
    }
}
