using System.Xml.Linq;

namespace DiffusionCluster.Deploy.Tests;

/// The gateway (the edge) carries no engine: its project graph holds no TorchSharp, so its image ships no libtorch.
public sealed class ThinEdgeTests
{
    [Fact]
    public void The_gateway_references_abstractions_and_service_defaults_only_and_no_project_below_it_uses_torchsharp()
    {
        var gateway = Path.Combine(Repository.Root, "src", "DiffusionCluster.Gateway", "DiffusionCluster.Gateway.csproj");

        Assert.Equal(["DiffusionCluster.Abstractions", "DiffusionCluster.ServiceDefaults"], References(gateway).Select(Path.GetFileNameWithoutExtension).Order());
        foreach (var project in Closure(gateway))
            Assert.DoesNotContain(Packages(project), p => p.StartsWith("TorchSharp", StringComparison.Ordinal) || p.StartsWith("libtorch", StringComparison.Ordinal));
    }

    static IEnumerable<string> Closure(string project) => new[] { project }.Concat(References(project).SelectMany(Closure)).Distinct();

    static IReadOnlyList<string> References(string project) => XDocument.Load(project).Descendants("ProjectReference")
        .Select(r => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, r.Attribute("Include")!.Value))).ToList();

    static IEnumerable<string> Packages(string project) => XDocument.Load(project).Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value);
}
