using System.Text.RegularExpressions;

namespace DiffusionCluster.Deploy.Tests;

/// The Dockerfiles cannot be built here (no Docker engine), so their references are checked instead.
public sealed class DockerfileTests
{
    public static TheoryData<string> Dockerfiles() => new(Directory.GetFiles(Path.Combine(Repository.Root, "docker"), "*.Dockerfile").Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_path_a_dockerfile_copies_from_the_repository_exists(string dockerfile)
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "docker", dockerfile));
        var copies = lines.Where(l => l.StartsWith("COPY ") && !l.Contains("--from=")).ToList();

        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1];
            foreach (var source in parts)
            {
                var matches = source.Contains('*')
                    ? Directory.GetFiles(Path.Combine(Repository.Root, Path.GetDirectoryName(source)!), Path.GetFileName(source))
                    : File.Exists(Path.Combine(Repository.Root, source)) || Directory.Exists(Path.Combine(Repository.Root, source)) ? [source] : [];
                Assert.True(matches.Length > 0, $"{dockerfile}: {source} does not exist");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void The_entrypoint_is_the_published_assembly_of_the_project_it_builds(string dockerfile)
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, "docker", dockerfile));
        var project = Regex.Match(text, @"dotnet publish (\S+)").Groups[1].Value;
        var entry = Regex.Match(text, @"ENTRYPOINT \[""dotnet"", ""([^""]+)\.dll""\]").Groups[1].Value;
        var csproj = File.ReadAllText(Directory.GetFiles(Path.Combine(Repository.Root, project), "*.csproj").Single());

        Assert.Contains($"<AssemblyName>{entry}</AssemblyName>", csproj);
        // Published ReadyToRun for linux-x64; --no-restore needs the restore to have named the same runtime and ReadyToRun.
        var restore = Regex.Match(text, @"RUN dotnet restore (\S+)(.*)").Groups;
        var publish = Regex.Match(text, @"RUN dotnet publish \S+(.*)").Groups[1].Value;
        Assert.Equal(project, restore[1].Value);
        foreach (var option in new[] { "-r linux-x64", "-p:PublishReadyToRun=true" })
        {
            Assert.Contains(option, restore[2].Value);
            Assert.Contains(option, publish);
        }
        Assert.Contains("--no-restore", publish);
        Assert.Contains("USER ", text); // never root
        Assert.Contains("HEALTHCHECK", text);
    }
}
